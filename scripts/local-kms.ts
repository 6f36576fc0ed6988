import { parseArgs } from 'node:util';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { startKmsEmulator } from '../infra/local/kms-emulator.js';
import { StoreInUseError } from '../infra/local/store-lock.js';
import { loadConfig } from '../shared/config.js';
import { ranAsScript, sayer } from './cli.js';

/**
 * `npm run local:kms -- <command> [key]`: the operator's KMS calls of a signing key's rotation (`aws kms
 * create-key`, `disable-key`, `enable-key` in AWS), made on the local runtime's KMS emulator (its keys under
 * `DATA_DIR`, default `.data`), to rehearse the runbook on this machine (docs/operating.md, "Rehearsing a
 * rotation locally"). Run it while `npm start` is stopped: a running runtime holds the keys in memory and
 * would neither see the change nor keep it, so the script refuses while one holds the keys' lock (review
 * R53 F2). A key is named by its id or an alias (resolved first, as `aws kms describe-key` would). Prints
 * the key id and its state on stdout; exits 0, 1 when KMS refuses (an unknown key), 2 on a usage or
 * configuration error (an external KMS endpoint: use the AWS CLI there) or while another process (`npm
 * start`) uses the keys, named in the message.
 */
const usage = `npm run local:kms -- <command>
  create-key [ECC_NIST_P256|RSA_2048]   a new signing key (default ECC_NIST_P256); prints its id
  describe <key id or alias>            prints the key's id and state
  disable <key id or alias>             disables the key, as the stack does to a retired generation
  enable <key id or alias>              enables it again (the generation back in <kind>Keys)`;

const specs = ['ECC_NIST_P256', 'RSA_2048'] as const;

export async function runLocalKms(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void = console.log,
): Promise<number> {
  const say = sayer('local-kms');
  let command: string | undefined;
  let operand: string | undefined;
  let dataDir: string;
  try {
    const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
    [command, operand] = positionals;
    const config = loadConfig(env);
    if (config.kmsEndpoint !== undefined) {
      throw new Error(
        'AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL names an external KMS: use the AWS CLI there, this script changes the embedded emulator only',
      );
    }
    dataDir = config.dataDir;
    const known =
      (command === 'create-key' && (operand === undefined || specs.includes(operand as never))) ||
      (['describe', 'disable', 'enable'].includes(command ?? '') && operand !== undefined);
    if (!known || positionals.length > 2) throw new Error(`usage:\n${usage}`);
  } catch (error) {
    say((error as Error).message);
    return 2;
  }

  let emulator;
  try {
    emulator = await startKmsEmulator({ dataDir, owner: 'npm run local:kms' });
  } catch (error) {
    if (!(error instanceof StoreInUseError)) throw error;
    say(error.message);
    return 2;
  }
  const kms = new KMSClient({
    region: env.AWS_REGION ?? 'cn-north-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const describe = async (keyId: string) => {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return { keyId: KeyMetadata!.KeyId!, state: KeyMetadata!.KeyState! };
  };
  try {
    if (command === 'create-key') {
      const { KeyMetadata } = await kms.send(
        new CreateKeyCommand({
          KeySpec: (operand as (typeof specs)[number] | undefined) ?? 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          Description: 'elicence signing key generation (local rehearsal)',
        }),
      );
      out(`${KeyMetadata!.KeyId!} ${KeyMetadata!.KeyState!}`);
      return 0;
    }
    const { keyId } = await describe(operand!);
    if (command === 'disable') await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    if (command === 'enable') await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    const after = await describe(keyId);
    out(`${after.keyId} ${after.state}`);
    return 0;
  } catch (error) {
    say(`${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  } finally {
    kms.destroy();
    await emulator.close();
  }
}

if (ranAsScript(import.meta.url)) {
  process.exitCode = await runLocalKms(process.argv.slice(2), process.env);
}
