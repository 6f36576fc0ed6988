import type { CfnElement, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Json } from './iam-statement.js';

interface Resource {
  Type: string;
  Properties: Json;
}

/**
 * A nested stack's template read with its parent's: `fromParent` gives a nested value as the parent passes
 * it (each of the nested stack's parameters replaced by the value the parent's `AWS::CloudFormation::Stack`
 * resource gives it: a function's `Ref`, a queue's `Fn::GetAtt`), and `resolved` is the whole nested
 * template so replaced. An assertion written against the parent's logical ids
 * (`{ Ref: <the topic's id> }`) holds on `resolved` exactly when the nested resource names that parent
 * resource, so a test of resources moved to a nested stack asserts what it did before.
 */
export function nestedTemplate(parentStack: Stack, parent: Template, nested: NestedStack) {
  const parentJson = parent.toJSON() as { Resources: Record<string, Resource> };
  const template = Template.fromStack(nested);
  const nestedStackId = parentStack.getLogicalId(nested.nestedStackResource as CfnElement);
  const resource = parentJson.Resources[nestedStackId];
  if (resource?.Type !== 'AWS::CloudFormation::Stack') {
    throw new Error(`${nested.node.path}: no nested stack resource ${nestedStackId} in the parent`);
  }
  const parameters = (resource.Properties.Parameters ?? {}) as Json;

  /** `value`, from the nested template, with each of its parameters replaced by what the parent passes. */
  const fromParent = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(fromParent);
    if (value && typeof value === 'object') {
      const object = value as Json;
      if (typeof object.Ref === 'string' && object.Ref in parameters) return parameters[object.Ref];
      return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, fromParent(inner)]));
    }
    return value;
  };
  const json = template.toJSON() as { Resources: Record<string, Resource> };

  return {
    /** The nested template as synthesised (its parameters unresolved). */
    template,
    /** The nested template with every parameter replaced by the parent's value. */
    resolved: Template.fromJSON({ ...json, Resources: fromParent(json.Resources) as Json }),
    resources: json.Resources,
    /** The nested stack's parameters, by name. */
    parameters,
    nestedStackId,
    fromParent,
  };
}
