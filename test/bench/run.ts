import coldStart from './cold-start.bench.js';
import issuance from './issuance.bench.js';
import login from './login.bench.js';
import signer from './signer.bench.js';
import statusList from './status-list.bench.js';
import verify from './verify.bench.js';

/** `npm run bench`: every benchmark in one run, each printing ours next to its baseline. */
for (const bench of [signer, statusList, issuance, verify, coldStart, login]) await bench();
