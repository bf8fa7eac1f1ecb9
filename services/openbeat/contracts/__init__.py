"""The wire and data contracts every service shares (pure: no Kafka, no S3).

- `codec`: Avro single-object encoding and `SchemaStore` (schemas/ loaded once, by fingerprint)
- `json_input`: JSON events validated against the same schemas, decoded to the same shape
- `validation`: semantic rules beyond the schema (`validate(kind, record, ctx) -> [Failure]`)
- `offenses`: the NIBRS offense-code table; `vocabulary`: closed value lists
- `jurisdiction`: the city (bbox, districts, time zone); `examples`: valid records for tests
- `errors`: `ContractError(code, detail)`, the one exception bad input raises
"""
