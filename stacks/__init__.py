"""The program's stack files (Pulumi.<stack>.yaml, the CLI's stackConfigDir) and the tools that read and
write them: catalog.py lists the stacks, new.py adds one."""
