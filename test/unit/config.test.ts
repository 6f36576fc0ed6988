import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';

describe('configuration', () => {
  it('needs nothing to run locally', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      dataDir: '.data',
      issuerUrl: 'http://localhost:3000',
      region: 'cn-north-1',
      tableName: 'elicence',
      auditTableName: 'elicence-audit',
      batchTableName: 'elicence-batches',
      dynamodbEndpoint: undefined,
      kmsEndpoint: undefined,
      lambdaEndpoint: undefined,
      listSignerFunction: 'list-signer:live',
    });
  });

  it('names the audit table after the table unless AUDIT_TABLE_NAME says otherwise', () => {
    expect(loadConfig({ TABLE_NAME: 'elicence-prod' }).auditTableName).toBe('elicence-prod-audit');
    expect(loadConfig({ AUDIT_TABLE_NAME: 'trail' }).auditTableName).toBe('trail');
  });

  it('refuses an audit table that is the service table (the trail would fall back into it)', () => {
    for (const env of [{ AUDIT_TABLE_NAME: 'elicence' }, { TABLE_NAME: 'prod', AUDIT_TABLE_NAME: 'prod' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/AUDIT_TABLE_NAME must differ from TABLE_NAME/);
    }
  });

  it('names the batch table after the table unless BATCH_TABLE_NAME says otherwise', () => {
    expect(loadConfig({ TABLE_NAME: 'elicence-prod' }).batchTableName).toBe('elicence-prod-batches');
    expect(loadConfig({ BATCH_TABLE_NAME: 'jobs' }).batchTableName).toBe('jobs');
  });

  it('refuses a batch table that is the service table or the audit table (its stream is read whole)', () => {
    for (const env of [
      { BATCH_TABLE_NAME: 'elicence' },
      { TABLE_NAME: 'prod', BATCH_TABLE_NAME: 'prod' },
      { BATCH_TABLE_NAME: 'elicence-audit' },
      { AUDIT_TABLE_NAME: 'trail', BATCH_TABLE_NAME: 'trail' },
    ]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(
        /BATCH_TABLE_NAME must differ from TABLE_NAME and AUDIT_TABLE_NAME/,
      );
    }
    // The default batch table's name taken by the audit table: the audit table's setting is named.
    expect(() => loadConfig({ AUDIT_TABLE_NAME: 'elicence-batches' })).toThrow(
      /AUDIT_TABLE_NAME must differ from the batch table's name \(elicence-batches/,
    );
  });

  it('requires holder commitments from their release day unless told a later day (security review M2b)', () => {
    // Unset must not mean "never": a stripped commitment would then pass an entry off as old.
    expect(loadConfig({}).auditHolderCommitmentsSince).toBe('2026-12-06');
    expect(loadConfig({ AUDIT_HOLDER_COMMITMENTS_SINCE: '2027-01-05' }).auditHolderCommitmentsSince).toBe(
      '2027-01-05',
    );
    expect(() => loadConfig({ AUDIT_HOLDER_COMMITMENTS_SINCE: '2027-13-01' })).toThrow(
      /AUDIT_HOLDER_COMMITMENTS_SINCE/,
    );
  });

  it('skips no audit entry as a copy of history unless a move’s cut-over is set (security review L1)', () => {
    expect(loadConfig({}).supervisionHistoryBefore).toBeUndefined();
    expect(loadConfig({ SUPERVISION_HISTORY_BEFORE: '2026-12-06T09:30:00Z' }).supervisionHistoryBefore).toBe(
      '2026-12-06T09:30:00Z',
    );
    expect(() => loadConfig({ SUPERVISION_HISTORY_BEFORE: '2026-12-06' })).toThrow(
      /SUPERVISION_HISTORY_BEFORE/,
    );
  });

  it('signs audit checkpoints with a key of their own, its earlier generations listed for ever', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({ auditKeyId: 'alias/elicence-audit', auditPreviousKeyIds: [] });
    expect(defaults.auditKeyId).not.toBe(defaults.platformKeyId);
    expect(
      loadConfig({ AUDIT_KEY_ID: 'k3', AUDIT_PREVIOUS_KEY_IDS: ' k2 , k1,' }).auditPreviousKeyIds,
    ).toEqual(['k2', 'k1']);
  });

  it('derives the issuer URL from the port, and drops a trailing slash from an explicit one', () => {
    expect(loadConfig({ PORT: '8080' }).issuerUrl).toBe('http://localhost:8080');
    expect(loadConfig({ ISSUER_URL: 'https://id.gov.example/' }).issuerUrl).toBe('https://id.gov.example');
  });

  it('points every AWS client at AWS_ENDPOINT_URL unless a service-specific endpoint is set', () => {
    const config = loadConfig({
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_KMS: 'http://localhost:4599',
    });
    expect(config.dynamodbEndpoint).toBe('http://localhost:4566');
    expect(config.kmsEndpoint).toBe('http://localhost:4599');
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['ISSUER_URL', 'ftp://example.com'],
    ['AWS_REGION', 'Beijing'],
    ['TABLE_NAME', 'ab'],
    ['AUDIT_TABLE_NAME', 'a/b'],
    ['BATCH_TABLE_NAME', 'a/b'],
    ['LOG_LEVEL', 'LOUD'],
    ['ACCESS_TOKEN_TTL_SECONDS', '5'],
    ['SMS_SENDER', 'pigeon'],
    ['SMS_SENDER_ID', 'elicence-sender'],
    ['AWS_ENDPOINT_URL_SNS', 'sns.local'],
    ['TENCENT_SMS_SDK_APP_ID', 'app-1400'],
    ['TENCENT_SMS_SIGN_NAME', '【电子证照】'],
    ['TENCENT_SMS_TEMPLATE_ID', 'code'],
    ['TENCENT_SMS_REGION', 'Guangzhou'],
    ['TENCENT_SMS_ENDPOINT', 'http://sms.tencentcloudapi.com'],
    ['TENCENT_SMS_SECRET_ARN', 'tencent-sms-key'],
    ['REGISTRIES', 'ldap'],
    ['POPULATION_REGISTRY_URL', 'http://population.example/v1'],
    ['CARRIER_REGISTRY_URL', 'ftp://127.0.0.1/c'],
    ['REGISTRY_TIMEOUT_MS', '10'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`\\b${variable}\\b`));
  });

  it('sends text messages to the outbox unless told SNS, at the SNS endpoint given or AWS_ENDPOINT_URL', () => {
    expect(loadConfig({})).toMatchObject({
      smsSender: 'outbox',
      snsEndpoint: undefined,
      smsSenderId: undefined,
    });
    expect(loadConfig({ SMS_SENDER: 'sns', SMS_SENDER_ID: 'ELICENCE' })).toMatchObject({
      smsSender: 'sns',
      smsSenderId: 'ELICENCE',
    });
    expect(loadConfig({ AWS_ENDPOINT_URL: 'http://localhost:4566' }).snsEndpoint).toBe(
      'http://localhost:4566',
    );
    expect(
      loadConfig({ AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_ENDPOINT_URL_SNS: 'http://localhost:4575' })
        .snsEndpoint,
    ).toBe('http://localhost:4575');
  });

  it('sends through Tencent Cloud SMS only with every setting, the key pair by secret ARN, never in the environment', () => {
    const tencent = {
      SMS_SENDER: 'tencent',
      TENCENT_SMS_SDK_APP_ID: '1400000001',
      TENCENT_SMS_SIGN_NAME: '电子证照',
      TENCENT_SMS_TEMPLATE_ID: '2101234',
      TENCENT_SMS_SECRET_ARN:
        'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:elicence/tencent-sms-AbCdEf',
    };
    expect(loadConfig(tencent)).toMatchObject({
      smsSender: 'tencent',
      tencentSms: {
        sdkAppId: '1400000001',
        signName: '电子证照',
        templateId: '2101234',
        region: 'ap-guangzhou',
        endpoint: 'https://sms.tencentcloudapi.com',
        secretArn: tencent.TENCENT_SMS_SECRET_ARN,
      },
      secretsManagerEndpoint: undefined,
    });
    expect(loadConfig({}).tencentSms).toBeUndefined();
    // The security notices' template: optional (approved apart), digits only.
    expect(loadConfig(tencent).tencentSms?.noticeTemplateId).toBeUndefined();
    expect(
      loadConfig({ ...tencent, TENCENT_SMS_NOTICE_TEMPLATE_ID: '2101235' }).tencentSms?.noticeTemplateId,
    ).toBe('2101235');
    expect(() => loadConfig({ ...tencent, TENCENT_SMS_NOTICE_TEMPLATE_ID: 'notice' })).toThrow(
      /TENCENT_SMS_NOTICE_TEMPLATE_ID/,
    );
    // The previous phone's notice: its own template, optional likewise, digits only.
    expect(loadConfig(tencent).tencentSms?.previousPhoneNoticeTemplateId).toBeUndefined();
    expect(
      loadConfig({ ...tencent, TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID: '2101236' }).tencentSms
        ?.previousPhoneNoticeTemplateId,
    ).toBe('2101236');
    expect(() =>
      loadConfig({ ...tencent, TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID: 'previous' }),
    ).toThrow(/TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID/);
    for (const variable of [
      'TENCENT_SMS_SDK_APP_ID',
      'TENCENT_SMS_SIGN_NAME',
      'TENCENT_SMS_TEMPLATE_ID',
      'TENCENT_SMS_SECRET_ARN',
    ]) {
      expect(() => loadConfig({ ...tencent, [variable]: undefined })).toThrow(
        new RegExp(`${variable} is required when SMS_SENDER=tencent`),
      );
    }
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', TABLE_NAME: '!' });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).issues.map((i) => i.variable)).toEqual(['PORT', 'TABLE_NAME']);
    }
  });
});
