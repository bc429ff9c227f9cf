"""A scenario fuzzer: Hypothesis strategies over the schema and the promise they check."""
