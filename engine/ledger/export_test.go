package ledger

// Exported for the external tests.
var (
	BucketOf  = bucketOf
	BucketMax = bucketMax
)
