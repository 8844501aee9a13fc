// Validates an OpenAPI document against the official OpenAPI 3.x JSON Schema
// with @seriousme/openapi-schema-validator (ajv). Prints the errors and
// exits 1 when the document is not valid. Usage: node validate.mjs FILE
import { Validator } from '@seriousme/openapi-schema-validator';

const validator = new Validator();
const res = await validator.validate(process.argv[2]);
if (!res.valid) {
  console.error(JSON.stringify(res.errors, null, 1));
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version}: ${process.argv[2]}`);
