// Validate documents with OpenActive's data-model-validator, offline.
//
// Usage: node conformance/data-model-validate.js MODE CACHE_DIR INPUT.json OUTPUT.json
//   MODE       RPDEFeed (item data) or DatasetSite (a dataset site's JSON-LD)
//   CACHE_DIR  remote JSON cache, pre-filled by conformance/dmv_cache.py
//   INPUT      a JSON array of {"name": ..., "data": {...}}
// Writes [{"name", "failures": [...], "warnings": [...]}] and {"misses": [URLs]}: every URL
// the validator wanted but the cache lacked. With no internet each miss would surface as
// a confusing failure, so they are refused at once and reported by name.
const fs = require('fs');
const axios = require('axios');
const { validate } = require('@openactive/data-model-validator');

const misses = new Set();
axios.interceptors.request.use((config) => {
  misses.add(config.url);
  return Promise.reject(new Error(`offline: ${config.url} is not in the cache`));
});

async function main() {
  const [mode, cacheDir, input, output] = process.argv.slice(2);
  const documents = JSON.parse(fs.readFileSync(input, 'utf8'));
  const options = {
    validationMode: mode,
    loadRemoteJson: true,
    remoteJsonCachePath: cacheDir,
    remoteJsonCacheTimeToLive: 10 * 365 * 24 * 3600,
  };
  const results = [];
  for (const document of documents) {
    const errors = await validate(document.data, options);
    const pick = (severity) => errors
      .filter((error) => error.severity === severity)
      .map((error) => ({ type: error.type, path: error.path, message: error.message }));
    results.push({ name: document.name, failures: pick('failure'), warnings: pick('warning') });
  }
  fs.writeFileSync(output, JSON.stringify({ results, misses: [...misses] }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
