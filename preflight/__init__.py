"""Offline preflight: run the program under preview-faithful mocks and judge it with the policy pack."""
