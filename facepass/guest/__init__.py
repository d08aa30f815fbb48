"""Guest plumbing the features share: tokens, link signing, rate limits, the selfie form."""
