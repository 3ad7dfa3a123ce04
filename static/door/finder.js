// Long turfs: find a door by its number or street, or go to the next one not yet
// knocked. It sits in the sync bar, so it is at hand wherever the list is scrolled to.
import { fmt, h, T } from "./form.js";

/* `doors()`: the walk list now, in walking order, as {id, address, open} (open: not yet
   knocked and not a do-not-knock door). `onNone()`: every door has been knocked. */
export function finder({ doors, onNone }) {
  const count = h("p", { id: "find-count", className: "hint", "aria-live": "polite" });
  const input = h("input", { id: "find", type: "search", autocomplete: "off", enterKeyHint: "search",
    placeholder: T.find_hint, "aria-describedby": count.id,
    oninput: () => {
      findDoors(tools, input.value);
      scrollTo(0, 0);
    } });
  const tools = h("div", { id: "finder", className: "finder", role: "search" },
    h("label", { htmlFor: input.id, className: "sr" }, T.find), input,
    h("button", { type: "button", id: "next-door", onclick: () => nextDoor(doors(), onNone) }, T.next_door),
    count);
  tools.doors = doors;
  return tools;
}

// A number matches the start of a number in the address ("12" finds 12 and 120 Elm
// Street, and unit 12B); other words match anywhere in it.
export function findDoors(tools, query) {
  const words = query.toLowerCase().split(/[\s,]+/).filter(Boolean);
  let found = 0;
  for (const door of tools.doors()) {
    const text = door.address.toLowerCase();
    const parts = text.split(/[\s,#]+/);
    const match = words.every((word) => (/^\d/.test(word) ? parts.some((part) => part.startsWith(word))
      : text.includes(word)));
    const node = document.getElementById(`h-${door.id}`);
    if (node) node.hidden = !match;
    if (match) found += 1;
  }
  tools.querySelector("#find-count").textContent = words.length ? fmt("find_count", { n: found }) : "";
}

// The first door not yet knocked after the one at the top of the screen (or, past the
// last, from the start of the walk list), brought under the sync bar.
function nextDoor(doors, onNone) {
  const top = document.getElementById("sync").getBoundingClientRect().bottom;
  const open = doors.filter((door) => door.open)
    .map((door) => document.getElementById(`h-${door.id}`)).filter((node) => node && !node.hidden);
  // The door at the top of the screen now is the one being passed: the next comes after it.
  const at = document.elementFromPoint(innerWidth / 2, top + 6)?.closest("li.door");
  const after = (node) => (at ? at.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING
    : node.getBoundingClientRect().top > top);
  const next = open.find(after) ?? open[0];
  if (!next) {
    onNone();
    return;
  }
  // Once scrolled, the bar is stuck at the top of the screen: the door goes just below it.
  const stuck = document.getElementById("sync").offsetHeight;
  scrollTo({ top: scrollY + next.getBoundingClientRect().top - stuck - 4 });
  const heading = next.querySelector("h2");
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
}
