"""pairsmith's curation engine: data model, import, stores, embeddings, dedup, clusters, diversity, quality."""
