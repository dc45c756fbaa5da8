"""Helm's release actions, one module each, as Flux's helm-controller has them: install, upgrade, test,
rollback, uninstall and unlock. Each owns its condition, its success and failure reasons, its event and its
failure counter (`base.ReleaseAction`); `ACTIONS` maps the planner's action kinds to them.
"""

from __future__ import annotations

from gotk.helm import planner
from gotk.helm.actions.base import ReleaseAction, Run
from gotk.helm.actions.install import Install
from gotk.helm.actions.rollback import Rollback
from gotk.helm.actions.test import Test
from gotk.helm.actions.uninstall import Uninstall
from gotk.helm.actions.unlock import Unlock
from gotk.helm.actions.upgrade import Upgrade

__all__ = ["ACTIONS", "ReleaseAction", "Run"]

ACTIONS: dict[str, ReleaseAction] = {
    planner.INSTALL: Install(),
    planner.UPGRADE: Upgrade(),
    planner.TEST: Test(),
    planner.ROLLBACK: Rollback(),
    planner.UNINSTALL: Uninstall(),
    planner.UNLOCK: Unlock(),
}
