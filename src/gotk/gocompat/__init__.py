"""Go-compatible formats: what Flux's Go code reads and writes, reproduced exactly: Go durations (`durations`),
strconv's numbers (`strconv`), time.Time text (`times`), encoding/json output (`json`), go-yaml v2 as
sigs.k8s.io/yaml uses it (`yaml`) and go-yaml v3 as sops uses it (`yaml3`). The bottom layer: it imports nothing
else from gotk.
"""
