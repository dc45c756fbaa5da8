"""The local mode (`flux local up|down|status`, `make run`): a real control plane supervised on 127.0.0.1.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok as processes (`controlplane`,
`processes`, `kubeaccess`), and the smart-HTTP Git server and repository helpers the demo serves its fleet
from (`gitserver`, `gitrepos`, `httpserving`, `certs`). Tests reuse all of it; test-only servers live in
`gotk.testing`, which no product module imports.
"""
