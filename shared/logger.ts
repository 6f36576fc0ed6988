import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured JSON logger every module shares. Log ids, codes and masked forms only: never a raw ID
 * number, name, password, token, secret or key.
 */
export const logger = new Logger({ serviceName: 'elicence' });
