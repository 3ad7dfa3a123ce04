// The ladder: a "volunteer a shift" commitment picks one of the campaign's next shifts
// (they come with the walk list, so this works with no signal). The server signs the
// person up when the visit syncs; a shift full by then puts them on its waitlist.
import { fmt, h, isoWithOffset, nextId, T } from "./form.js";

export const LADDER_KIND = "volunteer_shift";

function shiftText(shift) {
  const spots = shift.free > 0 ? fmt("shift_free", { n: shift.free }) : T.shift_full;
  return [shift.label, shift.place, spots].filter(Boolean).join(" · ");
}

/* Adds the shift picker to a commitment `block` (made by form.js), shown while its
   kind is "volunteer a shift". Picking a shift fills in what and when. */
export function shiftPicker(block, shifts, value = {}) {
  const kind = block.querySelector('select[name="kind"]');
  const path = kind.closest("[data-path]").dataset.path.replace(/kind$/, "shift_id");
  const name = nextId("shift");
  const options = [["", T.shift_later], ...shifts.map((s) => [String(s.id), shiftText(s)])];
  const picker = h("fieldset", { className: "choices radio ladder", "data-path": path },
    h("legend", {}, shifts.length ? T.shift_pick : T.no_shifts),
    (shifts.length ? options : []).map(([id, label]) => {
      const inputId = nextId(name);
      return h("span", { className: "choice" },
        h("input", { type: "radio", id: inputId, name, value: id,
          checked: String(value.shift_id ?? "") === id }),
        h("label", { htmlFor: inputId, className: "chip" }, label));
    }),
    h("p", { className: "error", hidden: true }));
  kind.closest("[data-path]").after(picker);

  const what = block.querySelector('[name="what"]');
  const when = block.querySelector('[name="when"]');
  let filled = "";
  // .choices is display:flex, which would win over the hidden attribute alone.
  const show = () => {
    picker.hidden = kind.value !== LADDER_KIND;
    picker.style.display = picker.hidden ? "none" : "";
  };
  kind.addEventListener("change", show);
  picker.addEventListener("change", () => {
    const shift = shifts.find((s) => String(s.id) === chosen());
    if (!shift) return;
    // What they said yes to is the shift, unless the volunteer wrote something else.
    if (!what.value.trim() || what.value === filled) what.value = filled = shift.label;
    when.value = isoWithOffset(new Date(shift.starts_at)).slice(0, 16);
  });
  const chosen = () => picker.querySelector("input:checked")?.value || "";
  block.ladderShift = () => (kind.value === LADDER_KIND && chosen() ? Number(chosen()) : null);
  show();
  return picker;
}

/* The shift a commitment block picked, as the sync API takes it ({} when none). */
export function shiftOf(block) {
  const id = block.ladderShift?.();
  return id ? { shift_id: id } : {};
}
