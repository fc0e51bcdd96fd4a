"""The shared vocabulary: codes, patterns and normalisers that the indexer, the engines, matching,
the API and the page all speak. It imports nothing else of the project's."""
