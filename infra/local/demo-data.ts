import { demoPlatformClientId } from '../../shared/identifiers/client-ids.js';
import { idNumberCheckCharacter } from '../../shared/identifiers/id-number.js';
import { creditCodeCheckCharacter } from '../../shared/identifiers/credit-code.js';

/**
 * The synthetic people of the local demo, besides the demo citizen: name, region code (GB/T 2260), birth
 * date and sequence (odd for men, even for women), and mobile number; the check character is computed.
 * The seed fills both the population registry (人口库) and the carriers' registry (三要素) from them.
 * Deterministic, so every start seeds the same people. None of them has an account: register any of them
 * (`POST /accounts` or `/register` with the number, the name and the phone) to get a registry-verified one.
 * The mobile numbers are synthetic too: they are known only to the local carrier registry.
 */
const population = [
  ['李娜', '310104', '19880612', '024', '+8613816420387'],
  ['张伟', '110101', '19750203', '013', '+8613921057764'],
  ['刘洋', '440305', '19920918', '035', '+8615012398846'],
  ['陈静', '330106', '19850427', '046', '+8615867403129'],
  ['杨帆', '510107', '19990101', '057', '+8618628517093'],
  ['赵敏', '420106', '19680730', '062', '+8613705286641'],
  ['黄磊', '320102', '19791115', '071', '+8615151936274'],
  ['周婷', '370202', '19940304', '088', '+8618810472358'],
  ['吴昊', '610113', '20010822', '095', '+8613629084517'],
  ['徐丽', '500103', '19830509', '102', '+8615823560941'],
  ['孙强', '210102', '19700126', '117', '+8618023741906'],
  ['马骏', '640104', '19901210', '131', '+8613546207813'],
  ['朱琳', '350203', '19870714', '124', '+8615960318472'],
  ['胡斌', '430104', '19760321', '139', '+8618657204138'],
  ['郭晓燕', '120101', '19960605', '148', '+8613112859640'],
  ['林志远', '460105', '19811029', '153', '+8615298613057'],
  ['何雪', '530102', '19930217', '166', '+8618769035224'],
  ['高峰', '230103', '19650808', '175', '+8613899471602'],
  ['阿依古丽·买买提', '650102', '19910411', '182', '+8615509328716'],
  ['扎西顿珠', '540102', '19860925', '191', '+8618589140367'],
] as const;

/** A synthetic person: both registries know them, by ID number and name, and the carrier by phone. */
export interface SyntheticPerson {
  idNumber: string;
  name: string;
  /** E.164, `+8613…`, `+8615…` or `+8618…`. */
  phone: string;
}

export const registryPeople: readonly SyntheticPerson[] = population.map(
  ([name, region, birthDate, sequence, phone]) => {
    const first17 = `${region}${birthDate}${sequence}`;
    return { name, idNumber: `${first17}${idNumberCheckCharacter(first17)}`, phone };
  },
);

/**
 * The synthetic people and organisations of the local demo. The numbers are valid by their standards'
 * check rules and belong to no one.
 */
export const demo = {
  issuer: {
    name: '北京市政务服务管理局 (Beijing Government Services Administration, demo)',
    creditCode: '11110000000013223T',
    region: '110000',
    licenceTypes: ['driving-licence', 'business-licence'],
  },
  /**
   * In both registries, with an account: the password passes the password rules (8 to 128 characters),
   * and the carrier registry confirms the phone for the number and name.
   */
  citizen: {
    idNumber: '110105199003071239',
    name: '王小明',
    password: 'Demo-2026!',
    phone: '+8613901071239',
  },
  entity: {
    creditCode: '91110105MA01DEM078',
    name: '北京示范科技有限公司 (Beijing Demo Technology Co., Ltd.)',
  },
  clients: {
    admin: 'demo-admin',
    verifier: 'demo-verifier',
    supervisor: 'demo-supervisor',
    platform: demoPlatformClientId,
  },
} as const;

/** A synthetic person from the parts of their ID number (its check character computed). */
function syntheticPerson(name: string, first17: string, phone: string): SyntheticPerson {
  return { name, idNumber: `${first17}${idNumberCheckCharacter(first17)}`, phone };
}

/**
 * The demo issuing agency's counter clerk (经办人): an account proven in person (level 3, which a clerk's
 * sign-in needs), appointed by the agency's head ({@link agencyHead}) with `licences:issue`. Signs in to
 * `/console` with this password, acting for the agency (docs/console.md).
 */
export const demoClerk = {
  ...syntheticPerson('赵立新', '11010219860315031', '+8613701020315'),
  password: 'Clerk-2026!',
} as const;

/**
 * The head (legal representative, 负责人) of the demo issuing agency in the business registry, who
 * appointed {@link demoClerk}: both registries know them, they have no account. Registering them (and
 * reaching level 3 by an SMS code) lets one manage the agency's clerks in the demo.
 */
export const agencyHead: SyntheticPerson = syntheticPerson('钱国栋', '11010519700811053', '+8613801080811');

/**
 * Every synthetic person the local registries know: the demo citizen, then {@link registryPeople}, then
 * the demo agency's clerk and head.
 */
export const syntheticPeople: readonly SyntheticPerson[] = [
  { idNumber: demo.citizen.idNumber, name: demo.citizen.name, phone: demo.citizen.phone },
  ...registryPeople,
  { idNumber: demoClerk.idNumber, name: demoClerk.name, phone: demoClerk.phone },
  agencyHead,
];

/**
 * The demo issuer of a platform serving `region` (`PLATFORM_REGION`): the Beijing one above for the
 * default `110000`; for another region the same agency there, its credit code (valid by GB 32100) naming
 * that region, so that several local instances (peer platforms, docs/peers.md) have distinct issuers.
 *
 * @example
 * ```ts
 * demoIssuerFor('310000').creditCode; // '113100000000132238'
 * ```
 */
export function demoIssuerFor(region: string): {
  name: string;
  creditCode: string;
  region: string;
  licenceTypes: readonly string[];
} {
  if (region === demo.issuer.region) return demo.issuer;
  // The organisation code (00001322, check 3) of the Beijing demo issuer, under the other region.
  const first17 = `11${region}000013223`;
  return {
    ...demo.issuer,
    name: `${region} 政务服务管理局 (Government Services Administration of ${region}, demo)`,
    creditCode: `${first17}${creditCodeCheckCharacter(first17)}`,
    region,
  };
}
