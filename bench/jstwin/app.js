// The default rdsiam stack written in JS CDK, construct for construct after
// stacks/*.go (network, cluster, user provider, database user, query
// function, outputs), with the same aws-cdk-lib version, the same cdk.json
// (run from the repository root, so the feature flags apply) and the same
// Lambda assets (.build/lambda, built by the Go app). Only for measuring the
// Go app's synth against (make bench-twin); the Go stack is the product.
// cdk-nag suppressions are left out: the Go app writes them as metadata
// without loading cdk-nag either, and that is a few milliseconds.
'use strict';
const path = require('path');
const cdk = require('aws-cdk-lib');
const ec2 = cdk.aws_ec2;
const rds = cdk.aws_rds;
const lambda = cdk.aws_lambda;
const iam = cdk.aws_iam;
const logs = cdk.aws_logs;
const cr = cdk.custom_resources;
const { Construct } = require('constructs');

const root = path.resolve(__dirname, '..', '..');
const port = 3306;

function lambdaRole(scope, id, logGroup, inVpc) {
  const statements = [new iam.PolicyStatement({
    sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn],
  })];
  if (inVpc) {
    statements.push(new iam.PolicyStatement({
      sid: 'ManageVpcNetworkInterfaces',
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    }));
  }
  return new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    inlinePolicies: { Runtime: new iam.PolicyDocument({ statements }) },
  });
}

function goFunction(scope, id, p) {
  const logGroup = new logs.LogGroup(scope, id + 'Logs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: cdk.RemovalPolicy.DESTROY });
  const role = lambdaRole(scope, id + 'Role', logGroup, true);
  const sg = new ec2.SecurityGroup(scope, id + 'SecurityGroup', {
    vpc: p.network.vpc, description: p.description + ': no egress except the rules added for it', allowAllOutbound: false,
  });
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.PROVIDED_AL2023, architecture: lambda.Architecture.ARM_64, handler: 'bootstrap',
    code: lambda.Code.fromAsset(path.join(root, '.build', 'lambda', p.binary)),
    description: p.description, memorySize: p.memoryMB, timeout: p.timeout, role, logGroup,
    environment: p.environment, tracing: lambda.Tracing.DISABLED,
    vpc: p.network.vpc, vpcSubnets: p.network.subnets, securityGroups: [sg],
  });
  return { fn, role, sg };
}

class RdsIamStack extends cdk.Stack {
  constructor(scope, id) {
    super(scope, id, { description: 'rdsiam: Aurora MySQL with IAM database authentication and a Go query function' });

    // Network
    const net = new Construct(this, 'Network');
    const vpc = new ec2.Vpc(net, 'Vpc', {
      maxAzs: 2, natGateways: 0, restrictDefaultSecurityGroup: true,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(net, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_YEAR })),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    const subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const endpointSg = new ec2.SecurityGroup(net, 'SecretsManagerEndpointSecurityGroup', {
      vpc, description: 'Secrets Manager endpoint: HTTPS from the bootstrap function only', allowAllOutbound: false,
    });
    vpc.addInterfaceEndpoint('SecretsManagerEndpoint', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, subnets, privateDnsEnabled: true,
      securityGroups: [endpointSg], open: false,
    });
    const network = { vpc, subnets };

    // Cluster
    const cl = new Construct(this, 'Cluster');
    const engine = rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.of('8.0.mysql_aurora.3.08.2', '8.0') });
    const params = new rds.ParameterGroup(cl, 'Parameters', {
      engine, description: 'rdsiam: TLS required', parameters: { require_secure_transport: 'ON' },
    });
    const clusterSg = new ec2.SecurityGroup(cl, 'SecurityGroup', {
      vpc, description: 'Aurora cluster: MySQL from the rdsiam functions only', allowAllOutbound: false,
    });
    const db = new rds.DatabaseCluster(cl, 'Database', {
      engine,
      writer: rds.ClusterInstance.serverlessV2('Writer', { caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1, publiclyAccessible: false, autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: 0.5, serverlessV2MaxCapacity: 2,
      manageMasterUserPassword: true, credentials: rds.Credentials.fromUsername('admin'),
      iamAuthentication: true, storageEncrypted: true, parameterGroup: params, port,
      vpc, vpcSubnets: subnets, securityGroups: [clusterSg], deletionProtection: true,
      backup: { retention: cdk.Duration.days(7) }, removalPolicy: cdk.RemovalPolicy.SNAPSHOT, copyTagsToSnapshot: true,
    });
    const allowFrom = (peer, description) => {
      clusterSg.addIngressRule(peer, ec2.Port.tcp(port), description);
      peer.addEgressRule(clusterSg, ec2.Port.tcp(port), description);
    };

    // User provider
    const up = new Construct(this, 'DatabaseUsers');
    const handler = goFunction(up, 'Handler', {
      binary: 'dbuser', description: 'rdsiam database-user bootstrap', network, memoryMB: 256, timeout: cdk.Duration.minutes(5),
    });
    db.secret.grantRead(handler.role);
    allowFrom(handler.sg, 'MySQL from the database-user bootstrap');
    endpointSg.addIngressRule(handler.sg, ec2.Port.tcp(443), 'Secrets Manager from the database-user bootstrap');
    handler.sg.addEgressRule(endpointSg, ec2.Port.tcp(443), 'Secrets Manager from the database-user bootstrap');
    const frameworkLogs = new logs.LogGroup(up, 'FrameworkLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: cdk.RemovalPolicy.DESTROY });
    const provider = new cr.Provider(up, 'Provider', {
      onEventHandler: handler.fn, logGroup: frameworkLogs, frameworkOnEventRole: lambdaRole(up, 'FrameworkRole', frameworkLogs, false),
    });

    // Database user
    const user = new Construct(this, 'AppUser');
    const res = new cdk.CustomResource(user, 'Resource', {
      serviceToken: provider.serviceToken, resourceType: 'Custom::DatabaseUser',
      properties: {
        SecretArn: db.secret.secretArn, Endpoint: db.clusterEndpoint.hostname, Port: String(port),
        UserName: 'app_user', DatabaseName: 'appdb', Privileges: ['INSERT', 'SELECT'], RetainOnDelete: 'false',
      },
    });
    res.node.addDependency(db);

    // Query function
    const q = new Construct(this, 'Query');
    const query = goFunction(q, 'Function', {
      binary: 'query', description: 'rdsiam query function (IAM database authentication)', network, memoryMB: 256, timeout: cdk.Duration.seconds(15),
      environment: {
        DB_ENDPOINT: db.clusterEndpoint.hostname, DB_PORT: String(port), DB_USER: 'app_user', DB_NAME: 'appdb',
        DB_REGION: cdk.Stack.of(q).region, DB_MAX_CONNS: '2', DB_MAX_NEW_CONNS_PER_SECOND: '10',
        DB_ACCESS_DENIED_RETRY_SECONDS: '30', DB_READ_TIMEOUT_SECONDS: '5',
      },
    });
    allowFrom(query.sg, 'MySQL from the query function');
    db.grantConnect(query.role, 'app_user');
    query.fn.node.addDependency(user);

    new cdk.CfnOutput(this, 'ClusterEndpoint', { value: db.clusterEndpoint.hostname, description: 'Writer endpoint of the Aurora cluster' });
    new cdk.CfnOutput(this, 'ClusterResourceId', { value: db.clusterResourceIdentifier, description: 'Cluster resource id (the id in rds-db:connect ARNs)' });
    new cdk.CfnOutput(this, 'FunctionName', { value: query.fn.functionName, description: 'Query function' });
    new cdk.CfnOutput(this, 'InvokeCommand', {
      value: cdk.Fn.join('', ['aws lambda invoke --cli-binary-format raw-in-base64-out --function-name ', query.fn.functionName, ` --payload '{"action":"whoami"}' /dev/stdout`]),
      description: 'Ask the function who it is logged in as',
    });
  }
}

const app = new cdk.App();
new RdsIamStack(app, 'RdsIam');
app.synth();
