"""The OCI registry client every controller shares: media types (`spec`), references and tag selection
(`refs`, pure), the registry v2 HTTP API (`client`, blocking, so async callers run it through
`asyncio.to_thread`), credentials from pull Secrets and token challenges (`auth`), TLS and descriptors
(`model`), and the client a kind's `secretRef`, `serviceAccountName`, `certSecretRef`, `proxySecretRef`
and `insecure` ask for (`remote`).
Used by the source controller (OCIRepository, OCI HelmRepository) and the image reflector.
"""
