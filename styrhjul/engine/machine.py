"""One ``transitions`` machine per workflow definition version, with many models.

The machine decides, the service acts: :meth:`WorkflowMachine.fire` hands the trigger's
event a throw-away model carrying the instance's facts and reads the new state from it.
The model is never added to the machine: adding one gives it a method per trigger and a
callback slot per state, work that a model living for one call does not need, and the
machine then holds no per-call state, so concurrent fires need no lock. No callback sends
mail, writes audit rows or queries anything. ``auto_transitions`` is off and invalid
triggers raise, so every move is declared. What the definition says (the triggers from a
state, the roles of a trigger) is read once, when the machine is built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from transitions import EventData, Machine, MachineError

from styrhjul.engine.definition import STAY, WorkflowDefinition
from styrhjul.engine.guards import GUARDS, InstanceFacts
from styrhjul.errors import PermissionDenied, TransitionRefused


class _Instance:
    """The model ``transitions`` drives; holds nothing but the facts and the state.

    ``overriding`` is set when a role allowed to override fires a transition whose
    condition refuses: the conditions then let it pass (the service audits the reason).
    """

    def __init__(self, facts: InstanceFacts, *, overriding: bool = False) -> None:
        self.facts = facts
        self.state = facts.state
        self.overriding = overriding


class WorkflowMachine:
    """The state machine of one workflow definition version."""

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        spec = definition.spec
        self._machine = Machine(
            model=None,
            states=[s.name for s in spec.state],
            initial=spec.workflow.initial,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "conditions": [_Condition(name) for name in t.conditions],
                }
                for t in spec.transition
            ],
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=True,
        )
        allowed: dict[str, set[str]] = defaultdict(set)
        sources: dict[str, set[str]] = defaultdict(set)
        roles: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        override: dict[tuple[str, str], set[str]] = defaultdict(set)
        conditions: dict[tuple[str, str], set[str]] = defaultdict(set)
        for t in spec.transition:
            sources[t.trigger].update(t.source)
            roles[t.trigger, None].update(t.roles)
            for state in t.source:
                allowed[state].add(t.trigger)
                roles[t.trigger, state].update(t.roles)
                override[t.trigger, state].update(t.override_roles)
                conditions[t.trigger, state].update(t.conditions)
        self._allowed = {state: tuple(sorted(triggers)) for state, triggers in allowed.items()}
        self._sources = {trigger: frozenset(states) for trigger, states in sources.items()}
        self._roles = {key: frozenset(names) for key, names in roles.items()}
        self._override_roles = {key: frozenset(names) for key, names in override.items()}
        self._conditions = {key: frozenset(names) for key, names in conditions.items()}

    def allowed_triggers(self, state: str) -> list[str]:
        """Triggers declared from ``state`` (their guards may still refuse)."""
        return list(self._allowed.get(state, ()))

    def sources(self, trigger: str) -> set[str]:
        """The states ``trigger`` is declared from."""
        return set(self._sources.get(trigger, ()))

    def roles_for(self, trigger: str, state: str | None = None) -> set[str]:
        """The roles that may fire ``trigger`` (from ``state``, or from any state)."""
        return set(self._roles.get((trigger, state), ()))

    def override_roles(self, trigger: str, state: str) -> set[str]:
        """The roles that may fire ``trigger`` from ``state`` although a condition refuses."""
        return set(self._override_roles.get((trigger, state), ()))

    def conditions(self, trigger: str, state: str) -> frozenset[str]:
        """The guards asked when ``trigger`` fires from ``state`` (so the facts they read)."""
        return self._conditions.get((trigger, state), frozenset())

    def refusal(self, facts: InstanceFacts, trigger: str) -> str | None:
        """Why the conditions of ``trigger`` refuse now, or None when they allow it."""
        reasons = [
            reason
            for t in self.definition.spec.transition
            if t.trigger == trigger and facts.state in t.source
            for name in t.conditions
            if (reason := GUARDS[name](facts))
        ]
        return "; ".join(reasons) or None

    def fire(
        self,
        facts: InstanceFacts,
        trigger: str,
        actor_roles: Iterable[str],
        *,
        override: bool = False,
    ) -> str:
        """The state after ``trigger``, or a refusal naming state, allowed triggers and reason.

        With ``override`` the actor must hold one of the transition's override roles; the
        conditions are then not asked. The caller records why (see :meth:`refusal`).
        """
        allowed = self.allowed_triggers(facts.state)
        held = set(actor_roles)
        if trigger not in allowed:
            # Who may never fire it is refused as such (403), whatever the state: the state
            # of an instance is no business of someone who may not act on it.
            anywhere = self.roles_for(trigger)
            if anywhere and not override and not anywhere & held:
                raise PermissionDenied(self._needs(facts, trigger, anywhere, held))
            raise TransitionRefused(facts.ref, trigger, facts.state, allowed)
        if override:
            needed = self.override_roles(trigger, facts.state)
            if not needed:
                raise PermissionDenied(f"{facts.ref}: '{trigger}' cannot be overridden")
        else:
            needed = self.roles_for(trigger, facts.state)
        if not needed & held:
            raise PermissionDenied(self._needs(facts, trigger, needed, held, override=override))
        model = _Instance(facts, overriding=override)
        try:
            moved = self._machine.events[trigger].trigger(model)
        except MachineError as exc:
            raise TransitionRefused(facts.ref, trigger, facts.state, allowed) from exc
        if not moved:
            raise TransitionRefused(
                facts.ref,
                trigger,
                facts.state,
                allowed,
                reason=self.refusal(facts, trigger) or "a condition is not met",
            )
        return str(model.state)

    @staticmethod
    def _needs(
        facts: InstanceFacts,
        trigger: str,
        needed: set[str],
        held: set[str],
        *,
        override: bool = False,
    ) -> str:
        what = "overriding " if override else ""
        return (
            f"{facts.ref}: {what}'{trigger}' needs one of the roles "
            f"{', '.join(sorted(needed))}; the actor holds {', '.join(sorted(held)) or 'none'}"
            " here"
        )


class _Condition:
    """A named guard as ``transitions`` calls it: with the model, answering yes or no."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.guard = GUARDS[name]

    def __call__(self, event: EventData) -> bool:
        model = event.model
        assert isinstance(model, _Instance)
        return model.overriding or self.guard(model.facts) is None


__all__ = ["STAY", "WorkflowMachine"]
