import { demoPlatformClientId } from '../../shared/identifiers/client-ids.js';
import { idNumberCheckCharacter } from '../../shared/identifiers/id-number.js';

/**
 * The synthetic population registry (人口库) of the local demo, besides the demo citizen: name, region
 * code (GB/T 2260), birth date and sequence (odd for men, even for women); the check character is
 * computed. Deterministic, so every start seeds the same people. None of them has an account: register
 * any of them (`POST /accounts` or `/register` with the number and name) to get a registry-verified one.
 */
const population = [
  ['李娜', '310104', '19880612', '024'],
  ['张伟', '110101', '19750203', '013'],
  ['刘洋', '440305', '19920918', '035'],
  ['陈静', '330106', '19850427', '046'],
  ['杨帆', '510107', '19990101', '057'],
  ['赵敏', '420106', '19680730', '062'],
  ['黄磊', '320102', '19791115', '071'],
  ['周婷', '370202', '19940304', '088'],
  ['吴昊', '610113', '20010822', '095'],
  ['徐丽', '500103', '19830509', '102'],
  ['孙强', '210102', '19700126', '117'],
  ['马骏', '640104', '19901210', '131'],
  ['朱琳', '350203', '19870714', '124'],
  ['胡斌', '430104', '19760321', '139'],
  ['郭晓燕', '120101', '19960605', '148'],
  ['林志远', '460105', '19811029', '153'],
  ['何雪', '530102', '19930217', '166'],
  ['高峰', '230103', '19650808', '175'],
  ['阿依古丽·买买提', '650102', '19910411', '182'],
  ['扎西顿珠', '540102', '19860925', '191'],
] as const;

export const registryPeople: ReadonlyArray<{ idNumber: string; name: string }> = population.map(
  ([name, region, birthDate, sequence]) => {
    const first17 = `${region}${birthDate}${sequence}`;
    return { name, idNumber: `${first17}${idNumberCheckCharacter(first17)}` };
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
  /** In the registry, with an account: the password passes the password rules (8 to 128 characters). */
  citizen: { idNumber: '110105199003071239', name: '王小明', password: 'Demo-2026!' },
  entity: {
    creditCode: '91110105MA01DEM078',
    name: '北京示范科技有限公司 (Beijing Demo Technology Co., Ltd.)',
  },
  clients: {
    admin: 'demo-admin',
    verifier: 'demo-verifier',
    platform: demoPlatformClientId,
  },
} as const;
