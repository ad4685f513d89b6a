// An independent verifier for bundles Palisade writes: @sigstore/verify
// checks the bundle's DSSE signature with the given public key (found
// through the bundle's key hint), then this script checks that the in-toto
// statement names the image digest.
//
// Usage: node verify.js BUNDLE_JSON KEY_PEM SHA256_HEX
// Prints the predicate type and exits 0 when the bundle verifies.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function main() {
  const [bundlePath, keyPath, hex] = process.argv.slice(2);
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const publicKey = crypto.createPublicKey(fs.readFileSync(keyPath, 'utf8'));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const expectedHint = crypto.createHash('sha256').update(spki).digest('base64');
  const keys = (hint) => {
    if (hint !== expectedHint) throw new Error(`unknown key hint ${hint}`);
    return { publicKey, validFor: () => true };
  };
  const emptyRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
  };
  const verifier = new Verifier(toTrustMaterial(emptyRoot, keys), {
    tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle));
  const envelope = bundle.content.dsseEnvelope;
  const statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
  if (!statement.subject.some((s) => s.digest && s.digest.sha256 === hex)) {
    throw new Error('the statement does not name the image digest');
  }
  console.log(statement.predicateType);
}

try {
  main();
} catch (e) {
  console.error(`verify.js: ${e.message}`);
  process.exit(1);
}
