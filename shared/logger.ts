import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';

/** An error's own fields that may reach a log line: what it is and where it failed, never what it carried. */
const errorFields = ['code', '$fault', 'status', 'statusCode', 'error', 'error_description'] as const;
/** Of the AWS SDK's `$metadata`: what support needs to find the call, nothing of its input or output. */
const metadataFields = ['httpStatusCode', 'requestId', 'attempts'] as const;

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, string | number> {
  const picked: Record<string, string | number> = {};
  for (const key of keys) {
    const value = source[key];
    if (typeof value === 'string' || typeof value === 'number') picked[key] = value;
  }
  return picked;
}

/**
 * Powertools' log shape, with errors reduced to their name, message, stack, a few coded fields and their
 * cause. Powertools' own formatter copies every enumerable property of an error into the line, and errors
 * carry data: the SDK's `ConditionalCheckFailedException` carries the item it found
 * (`ReturnValuesOnConditionCheckFailure`, the login throttle asks for it), a library's error may carry the
 * request it refused. An error thrown anywhere must not put a person's data in the logs (privacy review R9).
 */
export class ServiceLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_arn: attributes.lambdaContext?.invokedFunctionArn,
        function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additional);
  }

  override formatError(error: Error): LogAttributes {
    const fields = error as unknown as Record<string, unknown>;
    const metadata = fields.$metadata;
    return {
      name: error.name,
      location: this.getCodeLocation(error.stack),
      message: error.message,
      stack: error.stack,
      ...pick(fields, errorFields),
      ...(typeof metadata === 'object' && metadata !== null
        ? { $metadata: pick(metadata as Record<string, unknown>, metadataFields) }
        : {}),
      ...(error.cause === undefined
        ? {}
        : { cause: error.cause instanceof Error ? this.formatError(error.cause) : typeof error.cause }),
    };
  }
}

/**
 * The structured JSON logger every module shares. Log ids, codes and masked forms only: never a raw ID
 * number, name, password, token, secret or key. Errors are logged by {@link ServiceLogFormatter}, which
 * keeps none of the data an error carries.
 */
export const logger = new Logger({ serviceName: 'elicence', logFormatter: new ServiceLogFormatter() });

/**
 * The channel of the lines the stack's alarms count (SRE review R31 M2): `audit checkpoint signed`,
 * `audit chains intact`, `peers refreshed`, the SMS checks at their daily ceiling, `sms not sent`. Their
 * metric filters read them from the log group, so they must be printed whatever `LOG_LEVEL` says: at
 * `WARN` the checkpoint-missing and chains-unchecked alarms would fire for ever (their missing data
 * breaches), and stale peers and the SMS ceiling would never page. This logger prints them at their own
 * level (INFO, WARN) at any `LOG_LEVEL` but `SILENT` (the tests', where nothing is printed at all): see
 * {@link setServiceLogLevel}. Same shape and formatter as {@link logger}, and the same rule: no personal data.
 *
 * @example
 * ```ts
 * alarmedLines.info(peersRefreshedLine, { peers: results, stalePeers: stale.length });
 * ```
 */
export const alarmedLines = new Logger({
  serviceName: 'elicence',
  logFormatter: new ServiceLogFormatter(),
  logLevel: 'INFO',
});

/**
 * Sets the service's log level (`LOG_LEVEL`, which the stack sets from its `logLevel`): {@link logger}'s
 * to `level`; {@link alarmedLines} stays at INFO, silent only when `level` is `SILENT`.
 */
export function setServiceLogLevel(level: string): void {
  type Level = Parameters<typeof logger.setLogLevel>[0];
  logger.setLogLevel(level as Level);
  alarmedLines.setLogLevel(level.toUpperCase() === 'SILENT' ? 'SILENT' : 'INFO');
}

/**
 * Serves one HTTP request with every line logged meanwhile naming it: API Gateway's `requestId` (the one
 * an answer's error body carries and a citizen quotes, also in the access log) and the route, and Lambda's
 * context when the runtime gives one (`function_request_id`, `cold_start`). The keys are removed after, so
 * a warm container's next request does not inherit them.
 *
 * @example
 * ```ts
 * export const handler = (event: HttpEvent, context?: Context) =>
 *   withRequestLogKeys(event, context, () => serve(event));
 * ```
 */
export async function withRequestLogKeys<T>(
  event: { routeKey?: string; requestContext?: { requestId?: string } },
  context: Context | undefined,
  serve: () => Promise<T>,
): Promise<T> {
  const keys = { requestId: event.requestContext?.requestId, route: event.routeKey };
  for (const channel of [logger, alarmedLines]) {
    if (context) channel.addContext(context);
    channel.appendKeys(keys);
  }
  try {
    return await serve();
  } finally {
    for (const channel of [logger, alarmedLines]) channel.removeKeys(['requestId', 'route']);
  }
}
