// Walk whole RPDE feeds with OpenActive's rpde-validator and report every message.
//
// Usage: node conformance/rpde-validate.js OUTPUT.json URL [URL ...]
// Writes {url: {pages, failures: [...], warnings: [...], notices: [...]}} to OUTPUT.json;
// each entry names the page, the validator's rule and error type, and its message.
// The validator stops after 20 pages unless told otherwise, so the limit is raised.
const fs = require('fs');
const { RpdeValidator } = require('@openactive/rpde-validator');

const PAGE_LIMIT = 100000;
// Per request; the process also waits this long after a refused connection.
const TIMEOUT_MS = Number(process.env.RPDE_VALIDATOR_TIMEOUT_MS) || 60000;

async function validate(url) {
  const log = await RpdeValidator(url, { pageLimit: PAGE_LIMIT, timeoutMs: TIMEOUT_MS });
  const result = { pages: log.pages.length, failures: [], warnings: [], notices: [] };
  for (const page of log.pages) {
    for (const error of page.errors) {
      const entry = {
        page: page.url, rule: error.rule, type: error.type, message: error.message,
      };
      if (error.severity === 'failure') result.failures.push(entry);
      else if (error.severity === 'warning') result.warnings.push(entry);
      else result.notices.push(entry);
    }
  }
  return result;
}

async function main() {
  const [output, ...urls] = process.argv.slice(2);
  const results = {};
  for (const url of urls) {
    results[url] = await validate(url);
  }
  fs.writeFileSync(output, JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
