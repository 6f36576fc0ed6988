import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { isDeepStrictEqual } from 'node:util';
import type { FunctionName } from '../../functions/routes.js';
import type { ElicenceStack } from '../../infra/stack.js';
import type { Json } from './iam-statement.js';
import { nestedTemplate } from './nested-template.js';

interface Resource {
  Type: string;
  Properties: Json;
  UpdatePolicy?: Json;
  DependsOn?: string[];
}

/** How the parent stack names a function's live alias where it builds the ARN itself (grants, rules). */
export const liveArnOf = (functionId: string) => ({
  'Fn::Join': [':', [{ 'Fn::GetAtt': [functionId, 'Arn'] }, 'live']],
});

/** How the parent stack names a function's live alias by name (`LIST_SIGNER_FUNCTION`). */
export const liveNameOf = (functionId: string) => ({ 'Fn::Join': [':', [{ Ref: functionId }, 'live']] });

/**
 * The gradual deploys' nested stack (infra/constructs/gradual-deploys.ts) read together with its parent:
 * a nested value as the parent passes it (parameters replaced), and which alias a parent value names
 * (a nested output holding the alias's `Ref`), so a test follows a reference across the two templates.
 */
export function liveAliases(stack: ElicenceStack, parent: Template) {
  const { template: nested, nestedStackId, fromParent } = nestedTemplate(stack, parent, stack.deploys);
  const nestedJson = nested.toJSON() as {
    Resources: Record<string, Resource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  const id = (construct: { node: { defaultChild?: unknown } }, of: { getLogicalId(e: CfnElement): string }) =>
    of.getLogicalId(construct.node.defaultChild as CfnElement);
  const functionId = (name: FunctionName) => id(stack.functions[name].function, stack);
  // The current version's id carries a hash of the function, set at synthesis (an override of its id).
  const versionId = (name: FunctionName) =>
    stack.resolve(
      (stack.functions[name].function.currentVersion.node.defaultChild as CfnElement).logicalId,
    ) as string;

  return {
    nested,
    nestedResources: nestedJson.Resources,
    nestedStackId,
    fromParent,
    functionId,
    versionId,
    /** The logical id (nested) of `name`'s alias: `live`, on the function's current version. */
    aliasId(name: FunctionName): string {
      const found = Object.entries(nestedJson.Resources).filter(
        ([, resource]) =>
          resource.Type === 'AWS::Lambda::Alias' &&
          resource.Properties.Name === 'live' &&
          isDeepStrictEqual(fromParent(resource.Properties.FunctionName), { Ref: functionId(name) }) &&
          isDeepStrictEqual(fromParent(resource.Properties.FunctionVersion), {
            'Fn::GetAtt': [versionId(name), 'Version'],
          }),
      );
      if (found.length !== 1) throw new Error(`${name}: ${found.length} live aliases on its current version`);
      return found[0]![0];
    },
    /** The nested alias a parent value names (`Fn::GetAtt` of a nested output that is its `Ref`), if any. */
    aliasNamedBy(value: unknown): string | undefined {
      const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
      if (!getAtt || getAtt[0] !== nestedStackId || !getAtt[1].startsWith('Outputs.')) return undefined;
      const output = nestedJson.Outputs[getAtt[1].slice('Outputs.'.length)];
      const ref = (output?.Value as { Ref?: string } | undefined)?.Ref;
      return ref && nestedJson.Resources[ref]?.Type === 'AWS::Lambda::Alias' ? ref : undefined;
    },
  };
}
