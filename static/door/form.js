// The story note and its commitments, in the order a conversation goes.
import { shiftOf, shiftPicker } from "./shifts.js";

const json = (id) => JSON.parse(document.getElementById(id).textContent);
export const T = json("door-strings");
export const CHANNELS = json("door-channels");

const plural = new Intl.PluralRules(document.documentElement.lang);

// `{n}` strings come in plural forms ({one, other}); the language's rules pick one.
export function fmt(key, vars = {}) {
  const text = typeof T[key] === "object" ? T[key][plural.select(vars.n)] ?? T[key].other : T[key];
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
}

// The campaign's door script in the page's language, where the organizer gave one.
// Themes are shown in it but sent as the campaign's own words.
const local = (campaign) => campaign?.script_translations?.[document.documentElement.lang] || {};
export const questionText = (campaign) => local(campaign).rating_question || campaign.rating_question;
export const themeLabel = (campaign, theme) => local(campaign).story_themes?.[theme] || theme;

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && key !== "list") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child != null && child !== false));
  return node;
}

// The time on this phone, as ISO 8601 with its UTC offset (the server keeps it as sent).
export function isoWithOffset(date = new Date()) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

// A light check only: the server parses numbers properly and its answer is shown too.
export function looksLikePhone(raw, region) {
  const digits = raw.replace(/\D/g, "");
  if (/[^\d\s().+\-]/.test(raw)) return false;
  if (raw.trim().startsWith("+")) return digits.length >= 8 && digits.length <= 15;
  if (region === "US" || region === "CA") {
    const national = digits.length === 11 && digits[0] === "1" ? digits.slice(1) : digits;
    return national.length === 10 && /^[2-9]\d{2}[2-9]/.test(national);
  }
  return digits.length >= 6 && digits.length <= 15;
}

const looksLikeEmail = (raw) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw);

// Server errors come as nested objects and lists; make them "path → messages".
export function flattenErrors(errors, path = "", out = {}) {
  if (errors == null) return out;
  if (typeof errors === "string") {
    (out[path] ||= []).push(errors);
  } else if (Array.isArray(errors)) {
    errors.forEach((item, index) => {
      if (typeof item === "string") (out[path] ||= []).push(item);
      else flattenErrors(item, path ? `${path}.${index}` : String(index), out);
    });
  } else {
    for (const [key, value] of Object.entries(errors)) {
      const name = key === "non_field_errors" ? path : path ? `${path}.${key}` : key;
      flattenErrors(value, name, out);
    }
  }
  return out;
}

/* What the server would refuse, by the limits it sent with the walk list (bundle.limits):
   the same rules in one place, checked here before a visit is saved. */
export function limitErrors(payload, limits) {
  const errors = {};
  if (!limits) return errors;
  const number = (n) => n.toLocaleString(document.documentElement.lang);
  const over = (path, value, max) => {
    if (max && typeof value === "string" && value.length > max) {
      errors[path] = [fmt("too_long", { max: number(max), n: number(value.length) })];
    }
  };
  const each = (prefix, values, maxima) => {
    for (const [name, max] of Object.entries(maxima || {})) {
      if (typeof max === "number") over(`${prefix}${name}`, values?.[name], max);
    }
  };
  const earliest = Date.parse(limits.earliest);
  const latest = Date.parse(limits.latest);
  const inRange = (iso) => {
    const moment = Date.parse(iso);
    return Number.isNaN(moment) || ((Number.isNaN(earliest) || moment >= earliest) &&
      (Number.isNaN(latest) || moment < latest));
  };
  over("note", payload.note, limits.note);
  over("place", payload.place, limits.place);
  if (payload.new_person) each("new_person.", payload.new_person, limits.new_person);
  const note = payload.story_note;
  if (note) {
    each("story_note.", note, limits.story_note);
    const themes = limits.story_note?.themes;
    if (themes && note.themes?.length > themes) errors["story_note.themes"] = [fmt("too_many_themes", { max: themes })];
  }
  const commitments = payload.commitments || [];
  if (limits.commitments_per_visit && commitments.length > limits.commitments_per_visit) {
    errors.commitments = [fmt("too_many_commitments", { max: limits.commitments_per_visit })];
  }
  commitments.forEach((c, i) => {
    each(`commitments.${i}.`, c, limits.commitment);
    if (c.when && !inRange(c.when)) {
      errors[`commitments.${i}.when`] = [fmt("bad_year", {
        from: new Date(earliest).getUTCFullYear(), to: new Date(latest).getUTCFullYear() - 1 })];
    }
  });
  if (limits.request_bytes && new Blob([JSON.stringify(payload)]).size > limits.request_bytes) {
    errors[""] = [T.too_big];
  }
  return errors;
}

const LABELS = { note: "note", place: "place", first_name: "first_name", last_name: "last_name",
  phone: "phone", email: "email", why: "why", story: "story", values_feelings: "values",
  themes: "themes", kind: "kind", what: "what", when: "when", owner_id: "owner",
  channel: "channel", household_id: "door", person_id: "who", outcome: "outcome" };

/* A refused visit's reasons in one line, each with the field it is about. */
export function describeErrors(errors) {
  return Object.entries(flattenErrors(errors)).map(([path, messages]) => {
    const key = LABELS[path.split(".").filter((part) => !/^\d+$/.test(part)).pop()];
    return key && T[key] ? `${T[key]}: ${messages.join(" ")}` : messages.join(" ");
  }).join(" ");
}

/* Save, and a Cancel that asks before dropping anything typed (it sits apart from Save,
   and a slip of the thumb costs one more tap, never a story). */
function cancelControls(getForm, onCancel, save) {
  const ask = h("div", { className: "confirm", role: "alert", hidden: true },
    h("p", {}, T.drop_confirm),
    h("button", { type: "button", className: "primary", onclick: () => { ask.hidden = true; save.focus(); } }, T.keep_writing),
    h("button", { type: "button", className: "quiet danger", onclick: onCancel }, T.drop_it));
  const cancel = h("button", { type: "button", className: "quiet cancel", onclick: () => {
    if (!getForm().dataset.dirty) return onCancel();
    ask.hidden = false;
    ask.querySelector("button").focus();
  } }, T.cancel);
  return [save, cancel, ask];
}

function field(label, control, path, hint) {
  const id = control.id || (control.id = nextId("f"));
  const error = h("p", { className: "error", id: `${id}-e`, hidden: true });
  const hintNode = hint && h("p", { className: "hint", id: `${id}-h` }, hint);
  control.setAttribute("aria-describedby", [hint && `${id}-h`, `${id}-e`].filter(Boolean).join(" "));
  return h("div", { className: "field", "data-path": path },
    h("label", { htmlFor: id }, label), hintNode, control, error);
}

function choiceGroup(legend, name, options, type, path, selected, describedBy) {
  const chosen = new Set([].concat(selected ?? []).map(String));
  return h("fieldset", { className: `choices ${type}`, "data-path": path,
    "aria-describedby": describedBy },
    h("legend", {}, legend),
    options.map(([value, label]) => {
      const id = nextId(name);
      return h("span", { className: "choice" },
        h("input", { type, id, name, value, checked: chosen.has(String(value)) }),
        h("label", { htmlFor: id, className: "chip" }, label));
    }),
    h("p", { className: "error", hidden: true }));
}

function checkbox(name, label, checked) {
  const id = nextId(name);
  return h("div", { className: "check" },
    h("input", { type: "checkbox", id, name, checked: !!checked }), h("label", { htmlFor: id }, label));
}

// A 0–10 rating: laid out as a grid of two rows (door.css).
function scaleGroup(...args) {
  const group = choiceGroup(...args);
  group.classList.add("scale");
  return group;
}

const SCALE = [["", T.not_asked], ...Array.from({ length: 11 }, (_, i) => [String(i), String(i)])];

function commitmentBlock(campaign, owners, region, index, value = {}) {
  const c = (name) => `commitments.${index}.${name}`;
  const kind = h("select", { name: "kind" },
    campaign.commitment_kinds.map((k) => h("option", { value: k.code, selected: k.code === value.kind }, k.label)));
  const owner = h("select", { name: "owner_id" }, h("option", { value: "" }, T.nobody),
    owners.map((o) => h("option", { value: o.id, selected: String(o.id) === String(value.owner_id) }, o.name)));
  const channels = (campaign.channels || Object.keys(CHANNELS)).map((code) => [code, CHANNELS[code] || code]);
  let when = "";
  if (value.when) {
    const d = new Date(value.when);
    when = isoWithOffset(d).slice(0, 16);
  }
  const block = h("fieldset", { className: "commitment" },
    h("legend", {}, fmt("commitment_n", { n: index + 1 })),
    field(T.kind, kind, c("kind")),
    field(T.what, h("input", { name: "what", value: value.what || "", autocomplete: "off" }), c("what")),
    field(T.when, h("input", { name: "when", type: "datetime-local", value: when }), c("when")),
    field(T.owner, owner, c("owner_id")),
    choiceGroup(T.channel, nextId("ch"), channels, "radio", c("channel"), value.channel || "none"),
    field(T.phone, h("input", { name: "phone", type: "tel", value: value.phone || "", autocomplete: "off" }), c("phone")),
    field(T.email, h("input", { name: "email", type: "email", value: value.email || "", autocomplete: "off" }), c("email")),
    h("button", { type: "button", className: "quiet", onclick: () => block.remove() }, T.remove));
  block.dataset.region = region;
  return block;
}

/* The conversation form. `household` is null at an event. `initial` is a payload
   being fixed after the server refused it. Calls onSave(payload) once it passes
   the light checks here. */
/* A choice of door for a visit being fixed: the walk list's doors, and "none" ("") where
   a visit may be away from the list. */
function doorField(doors, householdId, awayLabel) {
  const select = h("select", { name: "door" },
    awayLabel ? h("option", { value: "", selected: householdId == null }, awayLabel) : null,
    !awayLabel && !doors.some(([id]) => id === householdId) ? h("option", { value: "", selected: true }, T.choose_door) : null,
    doors.map(([id, label]) => h("option", { value: id, selected: id === householdId }, label)));
  return field(T.door, select, "household_id");
}

/* `startedAt` (ms): when the conversation began (its form was opened); its length is
   counted from then until the volunteer changes it (`minutesEdited`). */
export function conversationForm({ bundle, household, initial, onSave, onCancel, onDraft, doors, onDoor,
  startedAt = Date.now(), minutesEdited = false }) {
  const { campaign, owners = [] } = bundle;
  const note = initial?.story_note || {};
  // Someone who asked not to be contacted is never offered: no conversation is recorded.
  const people = household ? household.people.filter((p) => !p.do_not_contact) : [];
  const whoOptions = [...people.map((p) => [String(p.id), `${p.first_name} ${p.last_name}`.trim()]),
    ["new", T.someone_new]];
  const who = initial?.outcome
    ? (initial.person_id ? String(initial.person_id) : "new")
    : (people.length === 1 ? String(people[0].id) : "new");
  const np = initial?.new_person || {};
  const scaleId = nextId("scale");
  const scaleText = Object.entries(campaign.scale_labels || {})
    .sort((a, b) => a[0] - b[0]).map(([n, label]) => `${n}: ${label}`).join(" · ");
  const shift = h("output", { className: "shift", "aria-live": "polite" });
  const mostMinutes = bundle.limits?.story_note?.minutes ?? 240;
  const measured = () => Math.min(mostMinutes, Math.max(0, Math.round((Date.now() - startedAt) / 60000)));
  const minutes = h("input", { name: "minutes", type: "number", inputMode: "numeric", min: 0,
    max: mostMinutes, step: 1, value: String(note.minutes ?? measured()) });
  if (minutesEdited) minutes.dataset.edited = "1";
  minutes.addEventListener("input", () => { minutes.dataset.edited = "1"; });
  const commitments = h("div", { className: "commitments" });
  const form = h("form", { className: "story", noValidate: true },
    h("h2", {}, household ? household.address + (household.unit ? `, ${household.unit}` : "") : T.event),
    h("p", { className: "error form-error", role: "alert", hidden: true }),
    doors ? doorField(doors, household?.id ?? null, T.away) : null,
    initial?.note ? field(T.note, h("input", { name: "note", value: initial.note, autocomplete: "off" }), "note") : null,
    household ? null : field(T.place, h("input", { name: "place", value: initial?.place || "" }), "place"),
    choiceGroup(T.who, "who", whoOptions, "radio", "person_id", who),
    h("div", { className: "new-person", "data-path": "new_person" },
      field(T.first_name, h("input", { name: "first_name", value: np.first_name || "", autocomplete: "off" }), "new_person.first_name"),
      field(T.last_name, h("input", { name: "last_name", value: np.last_name || "", autocomplete: "off" }), "new_person.last_name"),
      field(T.phone, h("input", { name: "np_phone", type: "tel", value: np.phone || "", autocomplete: "off" }), "new_person.phone"),
      field(T.email, h("input", { name: "np_email", type: "email", value: np.email || "", autocomplete: "off" }), "new_person.email")),
    h("p", { className: "question", id: `${scaleId}-q` }, questionText(campaign)),
    h("p", { className: "hint", id: scaleId }, scaleText),
    scaleGroup(T.rating_before, "rb", SCALE, "radio", "story_note.rating_before", note.rating_before ?? "", `${scaleId}-q ${scaleId}`),
    field(T.why, h("textarea", { name: "why", rows: 2, value: note.why || "" }), "story_note.why"),
    choiceGroup(T.themes, "theme", campaign.story_themes.map((t) => [t, themeLabel(campaign, t)]), "checkbox", "story_note.themes", note.themes || []),
    field(T.story, h("textarea", { name: "story", rows: 5, value: note.story || "" }), "story_note.story", T.story_hint),
    checkbox("shared", T.shared, note.canvasser_shared_story),
    field(T.values, h("textarea", { name: "values", rows: 2, value: note.values_feelings || "" }), "story_note.values_feelings"),
    scaleGroup(T.rating_after, "ra", SCALE, "radio", "story_note.rating_after", note.rating_after ?? "", `${scaleId}-q ${scaleId}`),
    shift,
    scaleGroup(T.self_rating, "sr", SCALE, "radio", "story_note.self_rating", note.self_rating ?? ""),
    field(T.minutes, minutes, "story_note.minutes", T.minutes_hint),
    checkbox("sensitive", T.sensitive, note.sensitive),
    h("h3", {}, T.commitments),
    h("div", { "data-path": "commitments" }, h("p", { className: "error", hidden: true }), commitments),
    h("button", { type: "button", className: "quiet add", onclick: () => addCommitment() }, T.add_commitment),
    h("div", { className: "actions" },
      ...cancelControls(() => form, onCancel, h("button", { type: "submit", className: "primary" }, T.save))));

  // Until the volunteer changes it, the length follows the clock (and stops with the form).
  let shown = false;
  const ticking = setInterval(() => {
    if (!form.isConnected) {
      if (shown) clearInterval(ticking);
      return;
    }
    shown = true;
    if (!minutes.dataset.edited) minutes.value = String(measured());
  }, 15000);
  form.minutesEdited = () => Boolean(minutes.dataset.edited);

  const region = campaign.phone_region || "US";
  function addCommitment(value) {
    const most = bundle.limits?.commitments_per_visit;
    if (!value && most && commitments.children.length >= most) {
      showErrors(form, { commitments: [fmt("too_many_commitments", { max: most })] });
      return;
    }
    const block = commitmentBlock(campaign, owners, region, commitments.children.length, value);
    commitments.append(block);
    shiftPicker(block, bundle.shifts || [], value);
    if (!value) block.querySelector("select").focus();
  }
  (initial?.commitments || []).forEach((value) => addCommitment(value));

  const radio = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value ?? "";
  const rating = (name) => (radio(name) === "" ? null : Number(radio(name)));
  const val = (root, name) => root.querySelector(`[name="${name}"]`).value.trim();

  function refresh() {
    form.querySelector(".new-person").hidden = radio("who") !== "new";
    const before = rating("rb");
    const after = rating("ra");
    const diff = after - before;
    shift.textContent = before === null || after === null
      ? "" : fmt("shift", { shift: diff > 0 ? `+${diff}` : String(diff) });
  }
  form.addEventListener("change", (event) => {
    // Another door means other people: the form is built again around it, words kept.
    if (event.target.name === "door") onDoor?.(event.target.value ? Number(event.target.value) : null, read());
    else refresh();
  });
  refresh();
  let draftTimer;
  form.addEventListener("input", () => {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(() => onDraft?.(read()), 300);
  });

  function read() {
    const chosen = radio("who");
    const newPerson = { first_name: val(form, "first_name"), last_name: val(form, "last_name"),
      phone: val(form, "np_phone"), email: val(form, "np_email") };
    const blocks = [...commitments.querySelectorAll(".commitment")];
    return {
      outcome: "conversation",
      household_id: household ? household.id : null,
      person_id: chosen && chosen !== "new" ? Number(chosen) : null,
      new_person: chosen === "new" && Object.values(newPerson).some(Boolean) ? newPerson : null,
      note: form.querySelector('[name="note"]')?.value.trim() ?? "",
      place: household ? "" : val(form, "place"),
      story_note: {
        rating_before: rating("rb"),
        rating_after: rating("ra"),
        why: val(form, "why"),
        themes: [...form.querySelectorAll('input[name="theme"]:checked')].map((i) => i.value),
        story: val(form, "story"),
        canvasser_shared_story: form.querySelector('[name="shared"]').checked,
        values_feelings: val(form, "values"),
        sensitive: form.querySelector('[name="sensitive"]').checked,
        self_rating: rating("sr"),
        minutes: minutes.dataset.edited ? (minutes.value === "" ? null : Number(minutes.value)) : measured(),
      },
      commitments: blocks.map((block) => {
        const when = val(block, "when");
        return {
          kind: val(block, "kind"),
          what: val(block, "what"),
          when: when ? isoWithOffset(new Date(when)) : null,
          owner_id: val(block, "owner_id") ? Number(val(block, "owner_id")) : null,
          channel: block.querySelector('[data-path$=".channel"] input:checked')?.value || "none",
          phone: val(block, "phone"),
          email: val(block, "email"),
          ...shiftOf(block),
        };
      }),
    };
  }

  function check(payload) {
    const errors = limitErrors(payload, bundle.limits);
    const length = payload.story_note.minutes;
    if (length !== null && !(Number.isInteger(length) && length >= 0 && length <= mostMinutes)) {
      errors["story_note.minutes"] = [fmt("bad_minutes", { max: mostMinutes })];
    }
    if (!household && !payload.place) errors.place = [T.required_place];
    const person = payload.new_person;
    if (person) {
      if (!person.first_name) errors["new_person.first_name"] = [T.required_name];
      if (person.phone && !looksLikePhone(person.phone, region))
        errors["new_person.phone"] = [fmt("bad_phone", { raw: person.phone })];
      if (person.email && !looksLikeEmail(person.email))
        errors["new_person.email"] = [fmt("bad_email", { raw: person.email })];
    }
    payload.commitments.forEach((c, i) => {
      const p = `commitments.${i}.`;
      if (!c.what) errors[`${p}what`] = [T.required_what];
      if (c.phone && !looksLikePhone(c.phone, region)) errors[`${p}phone`] = [fmt("bad_phone", { raw: c.phone })];
      else if (c.channel === "sms" && !c.phone) errors[`${p}phone`] = [T.need_phone];
      if (c.email && !looksLikeEmail(c.email)) errors[`${p}email`] = [fmt("bad_email", { raw: c.email })];
      else if (c.channel === "email" && !c.email) errors[`${p}email`] = [T.need_email];
    });
    return errors;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(draftTimer);
    const payload = read();
    const errors = check(payload);
    if (showErrors(form, errors)) {
      onDraft?.(payload);
      return;
    }
    onSave(payload);
  });
  if (initial?.errors || initial?.detail) {
    const errors = { ...flattenErrors(initial.errors), ...check(read()) };
    if (!initial.errors && initial.detail) errors[""] = [initial.detail];
    showErrors(form, errors);
  }
  return form;
}

/* Puts each message next to the control it is about (or at the top), and focuses
   the first. Returns true when there was anything to show. */
export function showErrors(form, errors) {
  form.querySelectorAll(".error").forEach((node) => { node.hidden = true; node.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  const entries = Object.entries(errors);
  if (!entries.length) return false;
  const top = form.querySelector(".form-error");
  const topMessages = [];
  for (const [path, messages] of entries) {
    let target = null;
    for (let p = path; p && !target; p = p.includes(".") ? p.replace(/\.[^.]*$/, "") : "") {
      target = form.querySelector(`[data-path="${p}"]`);
    }
    if (!target) {
      topMessages.push(...messages);
      continue;
    }
    const error = target.querySelector(".error");
    error.textContent = messages.join(" ");
    error.hidden = false;
    target.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
  }
  top.textContent = [T.fix_below, ...topMessages].join(" ");
  top.hidden = false;
  const first = form.querySelector("[aria-invalid]");
  if (first) first.focus();
  else top.scrollIntoView({ block: "center" });
  return true;
}

/* A non-contact the server refused (say, a note too long, a door no longer on the list):
   its door, its outcome and its note can all change. */
export function noteForm({ initial, title, limits, outcomes, doors, onSave, onCancel }) {
  const input = h("input", { name: "note", value: initial.note || "" });
  const outcome = h("select", { name: "outcome" }, outcomes.map(([code, label]) =>
    h("option", { value: code, selected: code === initial.outcome }, label)));
  const door = doorField(doors, initial.household_id, null);
  const form = h("form", { className: "story", noValidate: true },
    h("h2", {}, title),
    h("p", { className: "error form-error", role: "alert", hidden: true }),
    door,
    field(T.outcome, outcome, "outcome"),
    field(T.note, input, "note"),
    h("div", { className: "actions" },
      ...cancelControls(() => form, onCancel, h("button", { type: "submit", className: "primary" }, T.save))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { errors, detail, ...payload } = initial;
    const chosen = door.querySelector("select").value;
    const next = { ...payload, note: input.value.trim(), outcome: outcome.value,
      household_id: chosen ? Number(chosen) : null };
    if (!chosen) {
      showErrors(form, { household_id: [T.choose_door] });
      return;
    }
    if (showErrors(form, limitErrors(next, limits))) return;
    onSave(next);
  });
  if (initial.errors || initial.detail) {
    const errors = { ...flattenErrors(initial.errors), ...limitErrors(initial, limits) };
    if (!initial.errors && initial.detail) errors[""] = [initial.detail];
    showErrors(form, errors);
  }
  return form;
}
