"""The people in a store (the entity registry), for :class:`mmagent.pipeline.MMAgent`: list them,
a person's facts and episodes, enroll a named face from a photo, rename one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory.entities import EntityRegistry
from memory.persons import Person
from memory.reduce import Reducer
from memory.store import MemoryStore, Scope
from perception.errors import EmptyMedia

from mmagent.components import Components
from mmagent.errors import SettingsError
from mmagent.settings import Settings


class People:
    """The store's people: what the entities commands and the question planner read of them."""

    if TYPE_CHECKING:  # what MMAgent holds
        settings: Settings
        components: Components

        @property
        def store(self) -> MemoryStore: ...

        def reducer(self) -> Reducer: ...

    def registry(self) -> EntityRegistry:
        return EntityRegistry.load(self.store, self.settings.reduce_options().entities)

    def persons(self) -> list[Person]:
        return self.registry().persons()

    def entity_detail(self, person: Person, episodes: int = 10) -> dict[str, Any]:
        """A person's facts (current first, then history) and first episodes (clip level)."""
        ids = (person.id, *person.births, *person.faces, *person.voices)
        facts = [r for r in self.store.scroll(Scope(kind="semantic", entity_ids=ids))]
        facts.sort(key=lambda r: (bool(r.attrs.get("superseded_by")), -r.t_start))
        clips = sorted(self.store.scroll(Scope(kind="episodic", level="clip", entity_ids=ids)),
                       key=lambda r: (r.source_id, r.t_start))
        return {
            "facts": [{"text": r.text, "support": r.attrs.get("support"), "current": not r.attrs.get("superseded_by"),
                       **{k: r.attrs.get(k) for k in ("subject", "relation", "value")}} for r in facts],
            "episodes": [{"memory_id": r.id, "source_id": r.source_id, "start": r.t_start, "end": r.t_end,
                          "text": r.text} for r in clips[:episodes]],
        }

    def enroll(self, name: str, photo: Path) -> str:
        """A named face from a photo with exactly one face: later (and earlier) sightings match it."""
        from perception.clip_signals import read_rgb

        face = self.components.face()
        if face is None:
            raise SettingsError("faces are turned off (MMAGENT_FACES=0): nothing to enroll")
        try:
            image = read_rgb(photo)
        except (OSError, ValueError) as exc:
            raise EmptyMedia(photo, f"not a readable image ({exc})") from None
        found = face.detect_batch([image])[0]
        if len(found) != 1:
            raise EmptyMedia(photo, f"it shows {len(found)} faces; enroll a photo with exactly one")
        embedding = face.embed_faces(image, [found[0].box])[0]
        self.store.ensure_vectors({"face": (face.model_id, len(embedding))})
        name = " ".join(name.split())
        if not name:
            raise SettingsError("the name is empty")
        return self.reducer().update_entities(lambda reg: reg.enroll(name, embedding, str(photo)))

    def rename(self, entity_id: str, name: str) -> str:
        name = " ".join(name.split())
        if not name:
            raise SettingsError("the name is empty")

        def change(reg: EntityRegistry) -> str:
            try:
                return reg.rename(entity_id, name)
            except KeyError:
                raise SettingsError(f"no entity {entity_id} (see: mmagent entities)") from None

        return self.reducer().update_entities(change)

    def _people_index(self) -> dict[str, tuple[str, ...]]:
        """Names, aliases and ids of every person → all the entity ids that stand for it."""
        index: dict[str, tuple[str, ...]] = {}
        for p in self.persons():
            ids = (p.id, *p.births, *p.faces, *p.voices)
            for key in (*ids, *(n for n in (p.name, *p.aliases) if n)):
                index[key.lower()] = ids
        return index
