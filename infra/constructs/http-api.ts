import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  routeKey,
  type FunctionName,
  type Route,
  type RouteKey,
  type RouteThrottle,
} from '../../functions/routes.js';

/** Where the per-route 5xx counts of the access log are published (dimension `Route`, the route key). */
export const routeMetricsNamespace = 'Elicence/Api';

/**
 * What the per-route 5xx metric filter counts: an access-log line whose `status` is 5xx (a string: the
 * format quotes it). A handler that catches an error and answers 500 (`server_error`, shared/http/
 * api-handler.ts; a page's error page) is not a Lambda error, and the function's `Errors` alarm never
 * sees it: the access log sees every answer, with its route.
 */
export const serverErrorFilterPattern = logs.FilterPattern.stringValue('$.status', '=', '5*');

/**
 * A Lambda integration whose invoke permission (one per function for this API, on all its routes) is made
 * beside its target rather than beside the route: the target is a function's live alias, in the nested
 * stack of infra/constructs/gradual-deploys.ts, and there the 16 permissions do not count against the
 * parent stack's 500 resources. What it grants is what `scopePermissionToRoute: false` grants.
 */
class TargetScopedLambdaIntegration extends HttpLambdaIntegration {
  constructor(
    id: string,
    private readonly target: lambda.IFunction,
  ) {
    super(id, target, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      scopePermissionToRoute: false,
    });
  }

  protected override completeBind(options: apigw.HttpRouteIntegrationBindOptions): void {
    const { httpApi } = options.route;
    const id = `ApiPermission${Names.nodeUniqueId(httpApi.node)}`;
    if (this.target.node.tryFindChild(id)) return;
    this.target.addPermission(id, {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: Stack.of(options.route).formatArn({
        service: 'execute-api',
        resource: httpApi.apiId,
        resourceName: '*/*/*',
      }),
    });
  }
}

/** A route answering this many 5xx within 5 minutes, in 2 of 3 such periods, raises the route alarm. */
export const routeServerErrorThreshold = 5;

export interface ServiceApiProps {
  /**
   * Steady-state requests per second and burst of each route without a throttle of its own: the stage's
   * default route settings (`DefaultRouteSettings`). Per route, not one bucket for the stage (review R50
   * F2): the AWS docs call these limits "route-level throttling" ("Throttling requests to your HTTP API"),
   * and document no stage-wide bucket for HTTP APIs; read from the docs, not measured in AWS. What the
   * routes take together is bounded by the account's per-Region limit and the functions' concurrency.
   */
  throttle: { rateLimit: number; burstLimit: number };
  accessLogRetention: logs.RetentionDays;
  /**
   * Where the 5xx alarms and the access log's metric filter are made: the API's scope in the alarms' nested
   * stack (`OperationsAlarms.scopeFor`). The access log and the dashboard stay here.
   */
  alarmScope: Construct;
}

/**
 * Access log fields: who, which route, what came back, how long it took. The route key rather than the
 * path, and no query string: paths and queries can carry interaction ids and OAuth parameters.
 */
const accessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    // The Lambda invocation's id: the function's log lines carry it as `function_request_id`.
    integrationRequestId: '$context.integration.requestId',
  }),
);

/**
 * Why each public route that takes input from anyone (anything but a GET) is public. A public write
 * route missing here is not acknowledged, so cdk-nag fails the synth until its reason is written down.
 */
const publicWriteReasons: Partial<Record<RouteKey, string>> = {
  'POST /verify':
    'Public by design (POST /verify): anyone holding a scanned licence or presentation may ask for its verdict, as the QR codes printed on licences invite; anonymous callers get the verdict, licence type, issuer, validity and the holder’s masked name and number. A bearer token, when sent, is validated by the function against the token store (scope licences:verify) and only adds the disclosed fields. The body is bounded (16 KiB), the function only reads and writes an audit entry, and its own route throttle, below the default every other route gets, bounds it.',
  'POST /verify/pdf':
    'Public by design (POST /verify/pdf): a counter clerk who received a printable licence (a PDF and its detached signature) asks whether the file is the one the platform or its issuer signed. The body is bounded (about 1.4 MB: a PDF of at most 1 MiB in base64 and a signature), the function reads the platform keys, the licence record and at most the issuer record the signature names, writes one usage-record entry (as POST /verify does), and its own route throttle, below the default every other route gets, bounds it.',
  'POST /accounts':
    'Public by design (POST /accounts): self-registration, which by nature precedes any credential. The function checks every field, the population registry, one account per ID number (a conditional write), hashes the password with scrypt, stores the ID number only as a lookup key, masked form and KMS ciphertext, and audits each registration; its own route throttle, below the default every other route gets, bounds it.',
  'POST /register':
    "Public by design (POST /register): the registration form's submission, the same self-registration as POST /accounts with the same checks; in addition the function refuses cross-site posts (Origin and Sec-Fetch-Site must be this site's), and its own route throttle, below the default every other route gets, bounds it.",
};

/**
 * Why a route has no API Gateway authorizer, by the route table's `auth`; undefined for a public write
 * route without a reason of its own.
 */
function unauthorizedRouteReason(route: Route): string | undefined {
  const { auth } = route;
  if (route.method === 'OPTIONS') {
    return `CORS preflight (${routeKey(route)}) of a public route the route table opens to pages of any origin (cors): the function answers it with the allowed methods and headers, reads nothing and writes nothing; never with credentials.`;
  }
  if (auth === 'public') {
    return route.method === 'GET'
      ? `Public by design (${routeKey(route)}): read-only, published for anyone (verifiers, browsers, monitoring), and without personal data; the stage throttling bounds it.`
      : publicWriteReasons[routeKey(route) as RouteKey];
  }
  if (auth === 'oauth') {
    return 'OpenID provider endpoint: oidc-provider authenticates clients (client secret, private_key_jwt, PKCE) and people itself; an authorizer would break the OAuth protocol, which must answer unauthenticated callers with OAuth errors.';
  }
  if (auth === 'session') {
    return `A page of the service (${routeKey(route)}): people sign in through the OpenID provider and the function keeps the result in a sealed (AES-256-GCM) HttpOnly, SameSite=Lax session cookie that it checks itself; it refuses form posts from other sites (Origin and Sec-Fetch-Site), and calls the API with the person's or issuer's own access token. An API Gateway authorizer cannot read a sealed cookie.`;
  }
  const scopes = auth.alsoScope ? `"${auth.scope}" or "${auth.alsoScope}"` : `"${auth.scope}"`;
  return `Bearer token with scope ${scopes}: the function validates the opaque OAuth access token against the token store (expiry, audience, scope) itself; a Lambda authorizer would repeat that lookup on every call.`;
}

/**
 * The HTTP API (API Gateway v2): payload format 2.0 to Lambda, the `$default` stage only (a named stage
 * would prefix every path, and the OpenID provider builds its endpoint URLs and cookie paths from the
 * issuer URL without it), access logs, the default throttle of every route (a token bucket per route, not
 * one for the stage) and the lower throttles of the routes that declare their own (the route table's
 * `throttle`), and a 5xx-rate alarm.
 *
 * No CORS configuration: API Gateway's applies to every route of the API (it answers every preflight and
 * overrides the functions' own headers), the admin, issuer and holder routes included, which no page of
 * another origin may call. Instead the route table opens the public routes browser verifiers need
 * (`cors`: POST /verify, the trust list, status lists, issuers, the catalogue, the OpenAPI document): each
 * gets an `OPTIONS` route here ({@link gatewayRoutes}, passed to {@link addRoutes}) whose preflight its
 * function answers, and its answers carry `Access-Control-Allow-Origin: *` (shared/http/cors.ts). Every
 * other route has no `OPTIONS` route and sends no CORS header. The OpenID provider answers CORS itself on
 * the endpoints browsers call from other origins (discovery, JWKS, token, userinfo), since `ANY` routes pass
 * `OPTIONS` to it.
 */
export class ServiceApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The stage's access log: one JSON line per request (route key, status, latency, the Lambda request id). */
  readonly accessLogs: logs.LogGroup;
  /** The 5xx answers per route (metric `ServerErrors`, dimension `Route`), from the access log. */
  readonly routeServerErrors: logs.MetricFilter;
  /** The routes answering the most 5xx, and the API's error rate: where the on-call looks first. */
  readonly dashboard: cloudwatch.Dashboard;
  private readonly defaultRouteThrottle: ServiceApiProps['throttle'];

  constructor(scope: Construct, id: string, props: ServiceApiProps) {
    super(scope, id);
    this.defaultRouteThrottle = props.throttle;
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: 'elicence',
      description: 'elicence: e-licences and unified identity',
      createDefaultStage: false,
    });

    const accessLogs = (this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // DefaultRouteSettings: each route's own bucket at these limits, unless it declares lower ones.
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: accessLogFormat,
      },
    });

    // Under `AccessLogs` there as here: the alarm beside it bears the same name.
    this.routeServerErrors = new logs.MetricFilter(
      new Construct(props.alarmScope, 'AccessLogs'),
      'RouteServerErrors',
      {
        logGroup: accessLogs,
        filterPattern: serverErrorFilterPattern,
        metricNamespace: routeMetricsNamespace,
        metricName: 'ServerErrors',
        metricValue: '1',
        // A metric per route that answered a 5xx (none for the routes that never do: no cost for them).
        dimensions: { Route: '$.routeKey' },
        unit: cloudwatch.Unit.COUNT,
      },
    );
    this.alarms.push(
      this.serverErrorRateAlarm(props.alarmScope),
      this.routeServerErrorAlarm(props.alarmScope),
    );
    this.dashboard = this.routeDashboard();
  }

  /**
   * The issuer URL and API base: `https://<api id>.execute-api.<region>.<url suffix>`, without a trailing
   * slash. API Gateway's own `ApiEndpoint` attribute, so functions can take it in their environment: they
   * depend on the API resource, while the API's routes depend on the functions, with no cycle.
   */
  get endpoint(): string {
    return this.api.apiEndpoint;
  }

  /**
   * Adds one API Gateway route per route-table entry, each to the integration of its function: its live
   * alias (infra/constructs/gradual-deploys.ts), never `$LATEST`.
   */
  addRoutes(routes: readonly Route[], functions: Record<FunctionName, lambda.IFunction>): void {
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationOf = (name: FunctionName) => {
      let integration = integrations.get(name);
      if (!integration) {
        // One invoke permission per function for this API (`<api>/*/*/*`), not one per route: 130 routes
        // made 134 permissions, and with them the stack passed CloudFormation's 500 resources. A function
        // is this API's integration only for its own routes, so a route-scoped source ARN bought nothing.
        integration = new TargetScopedLambdaIntegration(`${name}Integration`, functions[name]);
        integrations.set(name, integration);
      }
      return integration;
    };

    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    for (const route of routes) {
      const key = routeKey(route);
      const httpRoute = new apigw.HttpRoute(this, `Route ${key.replace(/\//g, '_')}`, {
        httpApi: this.api,
        routeKey: apigw.HttpRouteKey.with(route.path, apigw.HttpMethod[route.method]),
        integration: integrationOf(route.function),
      });
      const reason = unauthorizedRouteReason(route);
      if (reason) Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      if (route.throttle) {
        this.checkBelowDefault(key, route.throttle);
        routeSettings[key] = {
          ThrottlingRateLimit: route.throttle.rateLimit,
          ThrottlingBurstLimit: route.throttle.burstLimit,
        };
        // The stage names the route by its key, which API Gateway refuses ("Unable to find Route by key")
        // unless the route exists first: CloudFormation would otherwise create both at once.
        this.stage.node.addDependency(httpRoute);
      }
    }
    if (Object.keys(routeSettings).length > 0) {
      // The L2 stage sets only the default route settings (`throttle`); a route's own, by route key,
      // are the CloudFormation stage's RouteSettings, each replacing the default for that route.
      (this.stage.node.defaultChild as apigw.CfnStage).routeSettings = routeSettings;
    }
  }

  /**
   * A route's own throttle is there to bound that route below what every other route gets. API Gateway
   * keeps a bucket per route (the stage's default route settings are each route's, not one shared by the
   * stage: review R50 F2), so a route's own limits replace the default for it alone, and at or above the
   * default they would bound it no lower, or raise it: synthesis refuses that (say, after the default was
   * lowered).
   */
  private checkBelowDefault(key: string, throttle: RouteThrottle): void {
    const fallback = this.defaultRouteThrottle;
    if (throttle.rateLimit >= fallback.rateLimit || throttle.burstLimit >= fallback.burstLimit) {
      throw new Error(
        `The throttle of ${key} (${throttle.rateLimit} rps, burst ${throttle.burstLimit}) must be below the default route throttle (${fallback.rateLimit} rps, burst ${fallback.burstLimit}), which every route without its own gets`,
      );
    }
  }

  /**
   * One route answering 5xx again and again, which the API-wide rate hides when the other routes are
   * busy (an issuer's route failing every call among a million verifications): the route with the most
   * 5xx answers, by a Metrics Insights query over the per-route metrics (one alarm, not one per route:
   * 130 alarms, each billed, would be a quarter of the alarms' nested stack's 500 resources). Which route
   * it is, the dashboard shows (its top routes).
   */
  private routeServerErrorAlarm(scope: Construct): cloudwatch.Alarm {
    const period = Duration.minutes(5);
    return new cloudwatch.Alarm(scope, 'RouteServerErrors', {
      alarmDescription: `elicence API: one route answered ${routeServerErrorThreshold} or more 5xx within 5 minutes, twice in 15 minutes (a handled 500 included: see the dashboard's top routes)`,
      metric: new cloudwatch.MathExpression({
        label: '5xx of the route with the most',
        expression: `SELECT SUM(ServerErrors) FROM SCHEMA("${routeMetricsNamespace}", Route) GROUP BY Route ORDER BY SUM() DESC LIMIT 1`,
        usingMetrics: {},
        period,
      }),
      threshold: routeServerErrorThreshold,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** The dashboard the route alarm points to: the ten routes with the most 5xx, and the API's rate. */
  private routeDashboard(): cloudwatch.Dashboard {
    const period = Duration.minutes(5);
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-api`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: '5xx by route (the ten with the most)',
            width: 12,
            left: [
              new cloudwatch.MathExpression({
                label: '',
                expression: `SELECT SUM(ServerErrors) FROM SCHEMA("${routeMetricsNamespace}", Route) GROUP BY Route ORDER BY SUM() DESC LIMIT 10`,
                usingMetrics: {},
                period,
              }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Requests and 5xx (whole API)',
            width: 12,
            left: [
              this.api.metricCount({ period, statistic: 'Sum' }),
              this.api.metricServerError({ period, statistic: 'Sum' }),
            ],
          }),
        ],
      ],
    });
  }

  /** More than 5 % of requests answered 5xx in two of three 5-minute periods. */
  private serverErrorRateAlarm(scope: Construct): cloudwatch.Alarm {
    const period = Duration.minutes(5);
    return new cloudwatch.Alarm(scope, 'ServerErrorRate', {
      alarmDescription: 'elicence API: more than 5% of requests answered with a 5xx status',
      metric: new cloudwatch.MathExpression({
        label: '5xx rate (%)',
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: {
          errors: this.api.metricServerError({ period, statistic: 'Sum' }),
          requests: this.api.metricCount({ period, statistic: 'Sum' }),
        },
        period,
      }),
      threshold: 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
