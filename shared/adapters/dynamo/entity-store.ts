import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../errors.js';
import { getItem, isConditionalCheckFailed, putNew, putVersioned, versionCondition } from './conditional.js';
import type { AgentAppointment, EntityAccount } from '../../identity/entity-account.js';
import type { EntityStore } from '../../identity/entity-store.js';
import type { Trace } from '../../pending-work/pending-work.js';
import { writeWithTrace } from './pending-work.js';
import { queryAll } from './query-all.js';
import { indexKeys, keys, sortKeys } from './keys.js';

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...rest } = item;
  return rest as T;
}

function appointmentItem(appointment: AgentAppointment) {
  return {
    ...keys.entityAgent(appointment.creditCode, appointment.personLookupKey),
    gsi1pk: indexKeys.agentPerson(appointment.personLookupKey),
    gsi1sk: appointment.creditCode,
    gsi2pk: indexKeys.entityAgents(appointment.creditCode),
    gsi2sk: appointment.personLookupKey,
    ...appointment,
  };
}

/**
 * {@link EntityStore} on the single table: entity accounts under `entity-account#<creditCode>` (by id
 * through gsi1), appointments under `entity-agents#<creditCode>` one per person (by person through gsi1,
 * by entity through gsi2, each hit re-read by key). An appointment or withdrawal with its trace is one
 * transaction of its put and the pointer that carries its audit entry (`pending-account-audit#0`:
 * `writeWithTrace`, pending-work.ts).
 */
export class DynamoEntityStore implements EntityStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createEntity(entity: EntityAccount): Promise<EntityAccount> {
    await putNew(
      this.doc,
      this.tableName,
      {
        ...keys.entityAccount(entity.creditCode),
        gsi1pk: indexKeys.entityAccountId(entity.id),
        gsi1sk: sortKeys.entity,
        ...entity,
      },
      { conflict: { code: 'entity_exists', message: 'An account for this entity already exists' } },
    );
    return entity;
  }

  async findEntityByCreditCode(creditCode: string): Promise<EntityAccount | undefined> {
    const item = await getItem(this.doc, this.tableName, keys.entityAccount(creditCode), 0);
    return item && strip<EntityAccount>(item);
  }

  async findEntityById(id: string): Promise<EntityAccount | undefined> {
    if (!/^ent_[A-Za-z0-9_-]{1,64}$/.test(id)) return undefined;
    const items = await this.#query('gsi1', indexKeys.entityAccountId(id), 'creditCode');
    for (const { creditCode } of items as Array<{ creditCode?: string }>) {
      if (!creditCode) continue;
      const entity = await this.findEntityByCreditCode(creditCode);
      if (entity?.id === id) return entity;
    }
    return undefined;
  }

  async appoint(appointment: AgentAppointment, now: Date, trace?: Trace): Promise<AgentAppointment> {
    const written = { ...appointment, version: 1 };
    const put = {
      TableName: this.tableName,
      Item: appointmentItem(written),
      // ISO 8601 UTC strings of one format compare as their instants do. An appointment made by
      // someone other than this appointer (a former representative, or one recorded before the
      // appointer was), or by them in another term (`appointerTerm`, absent for `''`), no longer
      // stands, so the representative of today may replace it.
      ConditionExpression:
        'attribute_not_exists(pk) OR #status = :withdrawn OR validUntil <= :now OR ' +
        'attribute_not_exists(appointedByLookupKey) OR appointedByLookupKey <> :appointer OR ' +
        (appointment.appointerTerm
          ? 'attribute_not_exists(appointerTerm) OR appointerTerm <> :term'
          : 'attribute_exists(appointerTerm)'),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':withdrawn': 'withdrawn',
        ':now': now.toISOString(),
        ':appointer': appointment.appointedByLookupKey ?? '',
        ...(appointment.appointerTerm ? { ':term': appointment.appointerTerm } : {}),
      },
    };
    const exists = (cause?: unknown) =>
      new ConflictError(
        'This person is already an agent of the entity; withdraw the appointment first',
        'agent_exists',
        { cause },
      );
    if (trace) {
      // Refused, or another appointment of the same person written at that moment: one is in force.
      if ((await writeWithTrace(this.doc, this.tableName, { Put: put }, trace, 'accounts')) !== 'written') {
        throw exists();
      }
      return written;
    }
    try {
      await this.doc.send(new PutCommand(put));
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw exists(error);
      throw error;
    }
    return written;
  }

  async saveAppointment(appointment: AgentAppointment, trace?: Trace): Promise<AgentAppointment> {
    const conflict = { code: 'agent_changed', message: 'The appointment changed meanwhile; try again' };
    if (!trace) {
      const saved = await putVersioned(
        this.doc,
        this.tableName,
        appointmentItem(appointment),
        appointment.version,
        { conflict },
      );
      return strip<AgentAppointment>(saved);
    }
    const written = { ...appointment, version: appointment.version + 1 };
    const put = {
      Put: {
        TableName: this.tableName,
        Item: appointmentItem(written),
        ...versionCondition(appointment.version),
      },
    };
    if ((await writeWithTrace(this.doc, this.tableName, put, trace, 'accounts')) !== 'written') {
      throw new ConflictError(conflict.message, conflict.code);
    }
    return written;
  }

  async findAppointment(creditCode: string, personLookupKey: string): Promise<AgentAppointment | undefined> {
    const item = await getItem(this.doc, this.tableName, keys.entityAgent(creditCode, personLookupKey), 0);
    return item && strip<AgentAppointment>(item);
  }

  async appointmentsOf(creditCode: string): Promise<AgentAppointment[]> {
    const items = await this.#query('gsi2', indexKeys.entityAgents(creditCode), 'personLookupKey');
    const found = await Promise.all(
      (items as Array<{ personLookupKey?: string }>).map(({ personLookupKey }) =>
        personLookupKey ? this.findAppointment(creditCode, personLookupKey) : undefined,
      ),
    );
    return found.filter((appointment): appointment is AgentAppointment => appointment !== undefined);
  }

  async appointmentsFor(personLookupKey: string): Promise<AgentAppointment[]> {
    const items = await this.#query('gsi1', indexKeys.agentPerson(personLookupKey), 'creditCode');
    const found = await Promise.all(
      (items as Array<{ creditCode?: string }>).map(({ creditCode }) =>
        creditCode ? this.findAppointment(creditCode, personLookupKey) : undefined,
      ),
    );
    return found.filter((appointment): appointment is AgentAppointment => appointment !== undefined);
  }

  /**
   * Every item of an index partition (optionally one attribute of each). Only indexes are queried: the
   * functions' IAM policies grant `Query` on the indexes and never on the base table.
   */
  async #query(
    index: 'gsi1' | 'gsi2',
    partition: string,
    attribute?: string,
  ): Promise<Array<Record<string, unknown>>> {
    return queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: index,
      KeyConditionExpression: `${index}pk = :pk`,
      ExpressionAttributeValues: { ':pk': partition },
      ...(attribute ? { ProjectionExpression: attribute } : {}),
    });
  }
}
