"""`flux create`: the command group; its sub-commands live in create_source, create_source_helm,
create_secret, create_kustomization, create_helmrelease and create_notification, the flags and helpers
they share in create_common.
"""

from __future__ import annotations

from gotk.cli import (
    create_helmrelease,
    create_image,
    create_kustomization,
    create_notification,
    create_secret,
    create_source,
    create_source_helm,
    create_tenant,
    kinds_cli,
)
from gotk.cli.flags import AliasGroup

create = AliasGroup("create", help="Create or update sources and resources.")
source = AliasGroup("source", help="Create or update sources.")
source.add_command(create_source.git)
source.add_command(create_source.oci)
source.add_command(create_source.bucket)
source.add_command(create_source_helm.helm)
source.add_command(create_source_helm.chart)
create.add_command(source)
create.add_command(create_secret.secret)
create.add_aliased(create_kustomization.kustomization, ("ks",))
create.add_aliased(create_helmrelease.helmrelease, kinds_cli.HELMRELEASE.aliases)
create.add_command(create_notification.alert_provider)
create.add_command(create_notification.alert)
create.add_command(create_notification.receiver)
create.add_command(create_image.image)
create.add_command(create_tenant.tenant)
