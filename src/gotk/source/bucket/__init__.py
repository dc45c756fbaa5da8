"""Bucket sources: the reconciler (`reconciler`), the pure object index (`index`) and the S3 fetcher (`s3`)."""
