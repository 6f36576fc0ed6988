import { SNSClient } from '@aws-sdk/client-sns';
import { awsClientSettings } from '../aws-timeouts.js';
import { signOncePerClient } from '../resolve-once.js';
import type { Config } from '../../config.js';
import type { SmsSender } from '../../identity/sms-sender.js';
import { SnsSmsSender } from './sms-sender.js';
import type { AlertPublisher } from '../../supervision/alert-rules.js';
import { SnsAlertPublisher } from './alert-publisher.js';

/*
 * The composition root's way in to the SNS adapter: the builder returns the port, so the composition
 * names no SDK type.
 */

/**
 * The SNS sender of a container, from the configuration (`AWS_ENDPOINT_URL_SNS` for an emulator, the
 * region otherwise; the function's role supplies the credentials). Makes no network call until a send.
 */
export function snsSmsSender(config: Pick<Config, 'region' | 'snsEndpoint' | 'smsSenderId'>): SmsSender {
  const client = signOncePerClient(
    new SNSClient(
      awsClientSettings({
        region: config.region,
        endpoint: config.snsEndpoint,
        // One retry: a publish retried after an ambiguous failure may send the same text twice, which is harmless.
        maxAttempts: 2,
        requestTimeoutMs: 3_000,
      }),
    ),
  );
  return new SnsSmsSender(client, config.smsSenderId);
}

/** The alert publisher of a container: the alarm topic `topicArn` through SNS. */
export function snsAlertPublisher(
  config: Pick<Config, 'region' | 'snsEndpoint'>,
  topicArn: string,
): AlertPublisher {
  const client = signOncePerClient(
    new SNSClient(
      awsClientSettings({
        region: config.region,
        endpoint: config.snsEndpoint,
        maxAttempts: 3,
        requestTimeoutMs: 3_000,
      }),
    ),
  );
  return new SnsAlertPublisher(client, topicArn);
}
