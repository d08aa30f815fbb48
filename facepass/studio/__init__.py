"""The studio console (`/studio`): the page a studio runs its events from, and the few admin
reads it needs beyond the API's (the studio's sessions, share checks, the branding preview)."""
