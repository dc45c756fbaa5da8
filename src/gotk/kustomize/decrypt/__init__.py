"""SOPS decryption for a Kustomization, as Flux does it: the key Secret is read once per reconcile (`keys`),
secretGenerator files are decrypted before the build (`generators`) and objects after it (`manifests`), on
top of the cipher, MAC and tree walk (`sops`) and the file formats sops reads and writes (`formats`).
"""
