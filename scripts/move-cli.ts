import { parseArgs } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../shared/adapters/dynamo/client.js';
import { type Config } from '../shared/config.js';
import { readCommandLine, sayer } from './cli.js';

/** What a move script moves: from the service table into `target`, by `move`. */
export interface MoveCommand {
  /** The script's name, which starts each message (`move-audit-trail`). */
  name: string;
  /** The option naming the table moved into (`audit-table`), and the table in words (`the audit table`). */
  targetOption: string;
  targetWords: string;
  /** The table moved into when the option is absent (`config.auditTableName`). */
  defaultTarget: (config: Config) => string;
  move: (
    doc: DynamoDBDocumentClient,
    options: { from: string; to: string; deleteCopied: boolean },
  ) => Promise<{ conflicts: readonly unknown[] }>;
}

/**
 * The command line the move scripts share (`--table <service table> --<target> <table> [--delete]`):
 * tables default to the configuration's, AWS credentials come from the environment as the AWS CLI's, the
 * region from `AWS_REGION` only (required against AWS: `readCommandLine`). Prints the move as JSON; exits 0 when every item is in the target table, 1 when some differ there
 * or changed while compared (listed, left in both tables), 2 on a usage, configuration or connection error.
 *
 * @example
 * ```ts
 * process.exitCode = await runMove(process.argv.slice(2), { name: 'move-batch-jobs', targetOption: 'batch-table', … });
 * ```
 */
export async function runMove(argv: string[], command: MoveCommand): Promise<number> {
  const say = sayer(command.name);
  const start = readCommandLine(
    say,
    process.env,
    (): { table?: string; delete?: boolean } & Record<string, string | boolean | undefined> =>
      parseArgs({
        args: argv,
        options: {
          table: { type: 'string' },
          [command.targetOption]: { type: 'string' },
          delete: { type: 'boolean', default: false },
        },
      }).values,
  );
  if (!start) return 2;
  const { args: values, config } = start;
  const from = values.table ?? config.tableName;
  const target = values[command.targetOption];
  const to = typeof target === 'string' ? target : command.defaultTarget(config);
  if (from === to) {
    say(`the service table and ${command.targetWords} must differ`);
    return 2;
  }
  const doc = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  try {
    const move = await command.move(doc, { from, to, deleteCopied: values.delete === true });
    console.log(JSON.stringify({ from, to, ...move }, null, 2));
    return move.conflicts.length > 0 ? 1 : 0;
  } catch (error) {
    say((error as Error).message);
    return 2;
  } finally {
    doc.destroy();
  }
}
