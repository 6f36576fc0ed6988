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
  citizen: { idNumber: '110105199003071239', name: '王小明' },
  entity: {
    creditCode: '91110105MA01DEM078',
    name: '北京示范科技有限公司 (Beijing Demo Technology Co., Ltd.)',
  },
  clients: {
    admin: 'demo-admin',
    verifier: 'demo-verifier',
    platform: 'demo-platform',
  },
} as const;
