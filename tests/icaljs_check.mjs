// Read .ics files with Mozilla's ical.js (the parser Thunderbird uses), independently of
// Python's icalendar, and print one JSON line per file:
//
//   {"file": ..., "method": ..., "events": [{uid, sequence, summary, status, all_day,
//    start, end}], "errors": [...]}
//
// Times with a TZID are converted to UTC through the VTIMEZONEs of the same file only
// (ical.js has no zone database of its own), so a wrong VTIMEZONE shows up as a wrong
// instant. start/end are UTC ISO strings ("2026-10-26T08:00:00Z"), or "YYYY-MM-DD" for
// all-day dates. A TZID with no VTIMEZONE, a missing UID or DTSTART, or an end before the
// start is an error. Exit status: 0 when no file has errors, 1 otherwise, 2 on bad usage.
//
// Run: node tests/icaljs_check.mjs FILE.ics... (after `npm ci`; see tests/support_icaljs.py)

import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function pad(number) {
  return String(number).padStart(2, "0");
}

function instant(time, errors, what) {
  if (time.isDate) {
    return `${time.year}-${pad(time.month)}-${pad(time.day)}`;
  }
  const zone = time.zone;
  if (zone === ICAL.Timezone.localTimezone) {
    errors.push(`${what}: floating time or unknown TZID`);
  }
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

function checkZone(property, errors, what) {
  const tzid = property.getParameter("tzid");
  if (tzid && !ICAL.TimezoneService.has(tzid)) {
    errors.push(`${what}: TZID ${tzid} has no VTIMEZONE in the file`);
  }
}

function readEvent(component, errors) {
  const uid = component.getFirstPropertyValue("uid");
  const what = `VEVENT ${uid ?? "(no UID)"}`;
  if (!uid) {
    errors.push(`${what}: no UID`);
  }
  const startProperty = component.getFirstProperty("dtstart");
  if (!startProperty) {
    errors.push(`${what}: no DTSTART`);
    return { uid, errors };
  }
  checkZone(startProperty, errors, `${what} DTSTART`);
  const endProperty = component.getFirstProperty("dtend");
  if (endProperty) {
    checkZone(endProperty, errors, `${what} DTEND`);
  }
  const event = new ICAL.Event(component);
  const start = event.startDate;
  const end = event.endDate;
  if (end.compare(start) < 0) {
    errors.push(`${what}: ends before it starts`);
  }
  const sequence = component.getFirstPropertyValue("sequence");
  return {
    uid,
    sequence: sequence === null ? null : Number(sequence),
    summary: component.getFirstPropertyValue("summary"),
    status: component.getFirstPropertyValue("status"),
    all_day: start.isDate,
    start: instant(start, errors, `${what} DTSTART`),
    end: instant(end, errors, `${what} DTEND`),
  };
}

function readFile(path) {
  const result = { file: path, method: null, events: [], errors: [] };
  let calendars;
  try {
    const parsed = ICAL.parse(readFileSync(path, "utf8"));
    // one VCALENDAR parses to a jCal array ["vcalendar", ...]; several to a list of them
    calendars = typeof parsed[0] === "string" ? [parsed] : parsed;
  } catch (error) {
    result.errors.push(`parse error: ${error.message}`);
    return result;
  }
  for (const jcal of calendars) {
    const calendar = new ICAL.Component(jcal);
    if (calendar.name !== "vcalendar") {
      result.errors.push(`top-level component is ${calendar.name}, not vcalendar`);
      continue;
    }
    result.method = calendar.getFirstPropertyValue("method");
    ICAL.TimezoneService.reset(); // only this file's zones count
    for (const zone of calendar.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.register(zone);
    }
    for (const component of calendar.getAllSubcomponents("vevent")) {
      const errors = [];
      const event = readEvent(component, errors);
      result.events.push(event);
      result.errors.push(...errors);
    }
  }
  return result;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tests/icaljs_check.mjs FILE.ics...");
  process.exit(2);
}
let failed = false;
for (const path of files) {
  const result = readFile(path);
  failed ||= result.errors.length > 0;
  console.log(JSON.stringify(result));
}
// exitCode, not exit(): exit() would cut off output still queued for a pipe (64 KiB)
process.exitCode = failed ? 1 : 0;
