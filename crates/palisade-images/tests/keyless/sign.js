// Keyless signing of an image digest, offline: @sigstore/sign against
// @sigstore/mock's Fulcio CA (with its CT log) and Rekor log, whose keys are
// ephemeral and whose HTTP APIs nock intercepts in this process.
//
// Usage: node sign.js OUT_DIR SHA256_HEX IMAGE_NAME SUBJECT ISSUER
// Writes OUT_DIR/bundle.json (bundle v0.3: an in-toto statement about the
// digest in DSSE, a Fulcio certificate, a Rekor entry with SET and inclusion
// proof), OUT_DIR/trusted_root.json (the mock's CA, CT log and Rekor keys) and
// OUT_DIR/other_ca_root.json (the same logs, another CA).
// Modules come from NODE_PATH (.ci/run installs them under the target dir).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const mockLib = require('@sigstore/mock');
const { mock } = require('@sigstore/mock/dist/mock');
const { DSSEBundleBuilder, FulcioSigner, RekorWitness } = require('@sigstore/sign');
const { bundleToJSON } = require('@sigstore/bundle');

const FULCIO = 'https://fulcio.mock.test';
const REKOR = 'https://rekor.mock.test';

const b64 = (buf) => Buffer.from(buf).toString('base64');
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const since = new Date(Date.now() - 3600 * 1000).toISOString();

function ecKeys() {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function logEntry(url, spki, logId) {
  return {
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: since } },
    logId: { keyId: b64(logId) },
  };
}

function trustedRoot(caRoot, tlogKey, ctlog) {
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logEntry(REKOR, tlogKey, crypto.createHash('sha256').update(tlogKey).digest())],
    certificateAuthorities: [
      { uri: FULCIO, certChain: { certificates: [{ rawBytes: b64(caRoot) }] }, validFor: { start: since } },
    ],
    ctlogs: [logEntry('https://ctfe.mock.test', ctlog.publicKey, ctlog.logID)],
    timestampAuthorities: [],
  };
}

async function main() {
  const [out, hex, name, subject, issuer] = process.argv.slice(2);
  const ctlog = await mockLib.initializeCTLog(ecKeys());
  const ca = await mockLib.initializeCA(ecKeys(), ctlog);
  const tlog = await mockLib.initializeTLog(REKOR, ecKeys());
  const otherCa = await mockLib.initializeCA(ecKeys(), ctlog);
  mock(FULCIO, mockLib.fulcioHandler(ca));
  mock(REKOR, mockLib.rekorHandler(tlog));
  // An unsigned OIDC token: the mock reads its claims without checking it.
  const token = `${b64url({ alg: 'none' })}.${b64url({ iss: issuer, sub: subject, aud: 'sigstore' })}.`;
  const signer = new FulcioSigner({
    fulcioBaseURL: FULCIO,
    identityProvider: { getToken: async () => token },
  });
  const builder = new DSSEBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: REKOR, entryType: 'dsse' })],
  });
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: hex } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
  };
  const bundle = await builder.create({
    data: Buffer.from(JSON.stringify(statement)),
    type: 'application/vnd.in-toto+json',
  });
  const write = (file, obj) => fs.writeFileSync(path.join(out, file), JSON.stringify(obj, null, 1));
  write('bundle.json', bundleToJSON(bundle));
  write('trusted_root.json', trustedRoot(ca.rootCertificate, tlog.publicKey, ctlog));
  write('other_ca_root.json', trustedRoot(otherCa.rootCertificate, tlog.publicKey, ctlog));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
