import { ConfigError, loadConfig } from '../../shared/config.js';
import { PortInUseError, startLocalRuntime } from './runtime.js';
import { StoreInUseError } from './store-lock.js';

/** `npm start`: the whole service on this machine, no AWS account and no Docker. */
async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await startLocalRuntime(config);
  const c = runtime.credentials;
  console.log(
    [
      '',
      `e-licence and unified identity service: ${runtime.baseUrl}`,
      `  pages      ${runtime.baseUrl}/  (wallet /wallet, verifier /verifier, demo platform /demo, issuer console /console)`,
      `  health     ${runtime.baseUrl}/healthz`,
      `  discovery  ${runtime.baseUrl}/.well-known/openid-configuration`,
      `  data       ${config.dataDir} (${runtime.kms ? 'embedded DynamoDB and KMS' : 'external AWS endpoints'})`,
      '',
      'Demo credentials (also in ' + runtime.credentialsFile + '):',
      `  admin     client ${c.admin.clientId} / ${c.admin.clientSecret}`,
      `  issuer    client ${c.issuer.clientId} / ${c.issuer.clientSecret} (issuer ${c.issuer.id})`,
      `  verifier  client ${c.verifier.clientId} / ${c.verifier.clientSecret}`,
      `  platform  client ${c.platform.clientId} / ${c.platform.clientSecret}`,
      `  citizen   ${c.citizen.name} ${c.citizen.idNumber} / ${c.citizen.password} (sign in with these), phone ${c.citizen.phone}`,
      `  entity    ${c.entity.name} ${c.entity.creditCode}`,
      `  clerk     ${c.clerk.name} ${c.clerk.idNumber} / ${c.clerk.password} (counter clerk of the issuer ${c.clerk.creditCode}: /console, and 当面核验 at /console/counter)`,
      `  people    ${c.people.length} synthetic people without an account, with their phones (register any of them)`,
      `  SMS       codes sent locally are in ${config.dataDir}/outbox/sms.jsonl`,
      '',
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    runtime.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  // The embedded DynamoDB died: the runtime logged why and closed itself; exit non-zero, as a crash would.
  void runtime.stopped.then(() => {
    if (stopping) return;
    stopping = true;
    process.exit(1);
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof PortInUseError || error instanceof StoreInUseError) {
    console.error(error.message);
  } else {
    console.error('Start-up failed:', error);
  }
  process.exit(1);
});
