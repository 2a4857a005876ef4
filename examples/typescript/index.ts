// `pulumi package add ../../provider` generates the SDK (sdks/hipaa-aws) and adds @pulumi/hipaa-aws here.
import * as hipaaAws from "@pulumi/hipaa-aws";

const environment = new hipaaAws.HipaaEnvironment("hipaa", {
    dataClassification: "synthetic",
    accountBaseline: "external",
    owner: "platform-team@example.com",
    costCenter: "CC-0000",
    alertEmail: "security-alerts@example.com",
    availabilityZoneCount: 2,
    natGatewayPerAz: false,
    database: { multiAz: false, deletionProtection: false },
});

const reports = new hipaaAws.SecureBucket("reports", {
    purpose: "reports",
    kmsKeyArn: environment.keyArns.apply(keys => keys["storage"]),
    accessLogBucket: environment.accessLogBucketName,
});

export const vpcId = environment.vpcId;
export const alertTopicArn = environment.alertTopicArn;
export const reportsBucket = reports.bucketName;
