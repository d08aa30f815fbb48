"""The brief's session endpoints: validate, details, FacePass status, guest page, batch."""
