// `pulumi package add ../../provider` generates the SDK (sdks/hipaa-aws) and references it from the project.
using System.Collections.Generic;
using Pulumi;
using HipaaAws = Pulumi.HipaaAws;

return await Deployment.RunAsync(() =>
{
    var environment = new HipaaAws.HipaaEnvironment("hipaa", new HipaaAws.HipaaEnvironmentArgs
    {
        DataClassification = HipaaAws.DataClassification.Synthetic,
        AccountBaseline = HipaaAws.AccountBaseline.External,
        Owner = "platform-team@example.com",
        CostCenter = "CC-0000",
        AlertEmail = "security-alerts@example.com",
    });

    var reports = new HipaaAws.SecureBucket("reports", new HipaaAws.SecureBucketArgs
    {
        Purpose = "reports",
        KmsKeyArn = environment.KeyArns.Apply(keys => keys["storage"]),
        AccessLogBucket = environment.AccessLogBucketName,
    });

    return new Dictionary<string, object?>
    {
        ["vpcId"] = environment.VpcId,
        ["alertTopicArn"] = environment.AlertTopicArn,
        ["reportsBucket"] = reports.BucketName,
    };
});
