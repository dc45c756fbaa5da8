"""Object-storage access for Bucket sources: the pure object index (`index`) and the S3 fetcher (`s3`)."""
