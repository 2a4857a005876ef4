// `pulumi package add ../../provider` generates the SDK (sdks/hipaa-aws) and prints the `go mod edit
// -replace` line for it. The import path is the one it prints: for versions 0.x and 1.x it has no /vN
// part (Go adds one from v2 on, as in example.com/pulumi-<package>/sdk/go/v2/<package>).
package main

import (
	"example.com/pulumi-hipaa-aws/sdk/go/hipaaaws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		environment, err := hipaaaws.NewHipaaEnvironment(ctx, "hipaa", &hipaaaws.HipaaEnvironmentArgs{
			DataClassification: hipaaaws.DataClassification("synthetic"),
			AccountBaseline:    hipaaaws.AccountBaseline("external"),
			Owner:              "platform-team@example.com",
			CostCenter:         "CC-0000",
			AlertEmail:         "security-alerts@example.com",
		})
		if err != nil {
			return err
		}
		reports, err := hipaaaws.NewSecureBucket(ctx, "reports", &hipaaaws.SecureBucketArgs{
			Purpose:         "reports",
			KmsKeyArn:       environment.KeyArns.MapIndex(pulumi.String("storage")),
			AccessLogBucket: environment.AccessLogBucketName,
		})
		if err != nil {
			return err
		}
		ctx.Export("vpcId", environment.VpcId)
		ctx.Export("alertTopicArn", environment.AlertTopicArn)
		ctx.Export("reportsBucket", reports.BucketName)
		return nil
	})
}
