/* FacePass studio console: one page, no build step, no third-party code. Every action is a
   call of the admin API with the bearer the studio typed in, kept in this tab only
   (sessionStorage): the server checks the key's studio and scope and audits each call. */
(function () {
  "use strict";

  var TOKEN = "facepass:studio:token";
  var LANG = "facepass:studio:lang";
  var PARALLEL = 4; // uploads in flight at once
  var CHECK_BATCH = 1000; // digests per POST .../photos/check (the API's maximum)

  var WORDS = {
    ru: {
      brand: "FacePass · Студия", other_language: "English", sign_out: "Выйти",
      signin_title: "Вход для студии",
      signin_hint: "Ключ студии (fpk_…) или токен оператора. Он хранится только в этой вкладке и забывается, когда вкладка закрыта.",
      token_label: "Ключ студии или токен оператора", sign_in: "Войти",
      signin_bad: "Ключ не подошёл. Проверьте, что он скопирован целиком.",
      signin_scope: "У этого ключа нет права чтения.",
      events_title: "Съёмки", events_empty: "У студии пока нет съёмок в Pixora.",
      col_event: "Съёмка", col_facepass: "FacePass", col_photos: "Фото", col_faces: "Лица",
      col_people: "Люди", col_indexing: "Обработка", on: "включён", off: "выключен",
      state_empty: "нет фото", state_indexing: "идёт", state_done: "готово",
      back_to_events: "← Все съёмки", tab_photos: "Фото", tab_people: "Люди",
      tab_page: "Страница события", tab_guests: "Гости",
      operator: "Оператор", studio_key: "Ключ студии",
      drop_here: "Перетащите сюда папку или фотографии", choose_files: "Выбрать файлы",
      choose_folder: "Выбрать папку", upload_title: "Загрузка",
      hashing: "Проверяем, что уже загружено: {done} из {total}…",
      upload_progress: "Загружено {done} из {total} · пропущено (уже загружены) {skipped} · осталось {eta}",
      upload_done: "Готово: загружено {done}, пропущено (уже были) {skipped}, ошибок {failed}.",
      upload_failures: "Не загрузились", retry: "Повторить",
      no_digest: "Браузер не считает SHA-256 на этом адресе (нужен https): повторы отсеет сервер.",
      indexing_title: "Обработка фото",
      index_progress: "Обработано {indexed} из {total} · лиц найдено {faces} · в очереди {pending} · осталось {eta}",
      index_done: "Все фото обработаны: {indexed} из {total}, лиц {faces}, не обработано {failed}.",
      index_empty: "Фото ещё нет.", index_failures: "Не обработаны",
      eta_unknown: "оценивается", seconds: "{n} с", minutes: "{n} мин",
      people_hint: "Отметьте двух или больше людей, чтобы объединить их. Нажмите на человека, чтобы увидеть его фото, назвать или отделить лица.",
      merge_selected: "Объединить выбранных", people_empty: "Людей пока нет: они появятся после обработки фото.",
      show_more: "Ещё", back_to_people: "← Все люди", person_name: "Имя", save: "Сохранить",
      split_selected: "Отделить выбранные лица", remove_person: "Удалить человека из поиска",
      faces_photos: "{faces} лиц · {photos} фото", unnamed: "Без имени",
      grouped_at: "Сгруппировано: {at}", merged: "Объединено.", split_done: "Лица отделены в нового человека.",
      named: "Имя сохранено.", removed: "Человек удалён из поиска.",
      confirm_merge: "Объединить {n} человек в одного? Решение сохранится при любой перегруппировке.",
      confirm_remove: "Удалить этого человека из поиска? Его лица перестанут находиться. Это можно отменить в разделе «Гости», пока идёт проверка.",
      branding_title: "Оформление", b_event_name: "Название события", b_event_date: "Дата",
      b_studio: "Студия", b_accent: "Цвет кнопок", b_logo: "Логотип (PNG, JPEG или WebP до 256 КБ)",
      b_cover: "Обложка", b_cover_hint: "Выберите фото для обложки; кадр выстроен по лицам.",
      b_logo_saved: "Логотип загружен.", b_logo_none: "Логотипа нет.", b_logo_new: "Новый логотип: {name} (сохранится с оформлением).",
      b_logo_big: "Логотип больше 256 КБ.", no_cover: "Без обложки",
      saved: "Сохранено.", preview_label: "Так гости увидят страницу",
      share_title: "QR-код и постер", poster_size: "Формат", print_poster: "Печать постера",
      not_public: "Этот адрес не откроется с телефонов гостей: {reason} Постер не печатается. Оператору: задайте FACEPASS_PUBLIC_BASE_URL (публичный адрес FacePass).",
      usage_title: "Гости по дням",
      usage_hint: "Визиты — открытия страницы и проверки съёмки; поиски — селфи-поиски; отказы — гости, попросившие убрать их лицо. Скачивания FacePass не считает.",
      col_day: "День", col_visits: "Визиты", col_searches: "Поиски", col_downloads: "Скачивания",
      col_optouts: "Отказы", not_counted: "не считаются", usage_empty: "Гостей ещё не было.",
      removals_title: "Удаления и отказы",
      removals_hint: "Можно вернуть в поиск в течение {days} дн.", restore: "Вернуть в поиск",
      restored: "Возвращено в поиск.", reason_opt_out: "Отказ гостя", reason_removal: "Удалено студией",
      status_in_review: "на проверке до {until}", status_restored: "возвращено", status_final: "окончательно",
      removals_empty: "Удалений нет.",
      err_network: "Нет связи с сервером.", err_401: "Вход истёк: войдите снова.",
      err_403: "Этому ключу это не разрешено.", err_404: "Не найдено.",
      err_413: "Файл слишком большой.", err_429: "Слишком часто: подождите немного.",
      err_503: "Сервис временно недоступен.",
      code_UNSUPPORTED_TYPE: "Это не фотография (JPEG, PNG, WebP, HEIC, AVIF, TIFF, GIF, BMP).",
      code_FILE_TOO_LARGE: "Файл больше допустимого размера.",
      code_CORRUPT_IMAGE: "Файл повреждён: изображение не читается.",
      code_EMPTY_FILE: "Пустой файл.",
      code_SPLIT_ALL_FACES: "Нельзя отделить все лица: оставьте хотя бы одно.",
      code_FORBIDDEN_STUDIO: "Эта съёмка не принадлежит вашей студии.",
      code_FORBIDDEN_SCOPE: "У ключа нет нужного права."
    },
    en: {
      brand: "FacePass · Studio", other_language: "Русский", sign_out: "Sign out",
      signin_title: "Studio sign-in",
      signin_hint: "A studio key (fpk_…) or the operator token. It is kept in this tab only and forgotten when the tab closes.",
      token_label: "Studio key or operator token", sign_in: "Sign in",
      signin_bad: "This key does not work. Check that it was copied whole.",
      signin_scope: "This key has no read scope.",
      events_title: "Events", events_empty: "The studio has no sessions in Pixora yet.",
      col_event: "Event", col_facepass: "FacePass", col_photos: "Photos", col_faces: "Faces",
      col_people: "People", col_indexing: "Indexing", on: "on", off: "off",
      state_empty: "no photos", state_indexing: "in progress", state_done: "done",
      back_to_events: "← All events", tab_photos: "Photos", tab_people: "People",
      tab_page: "Event page", tab_guests: "Guests",
      operator: "Operator", studio_key: "Studio key",
      drop_here: "Drop a folder or photos here", choose_files: "Choose files",
      choose_folder: "Choose a folder", upload_title: "Upload",
      hashing: "Checking what is already uploaded: {done} of {total}…",
      upload_progress: "Uploaded {done} of {total} · skipped (already uploaded) {skipped} · {eta} left",
      upload_done: "Done: {done} uploaded, {skipped} skipped (already there), {failed} failed.",
      upload_failures: "Not uploaded", retry: "Retry",
      no_digest: "This browser computes no SHA-256 on this address (https needed): the server drops repeats.",
      indexing_title: "Indexing",
      index_progress: "Indexed {indexed} of {total} · {faces} faces found · {pending} waiting · {eta} left",
      index_done: "All photos indexed: {indexed} of {total}, {faces} faces, {failed} failed.",
      index_empty: "No photos yet.", index_failures: "Not indexed",
      eta_unknown: "estimating", seconds: "{n} s", minutes: "{n} min",
      people_hint: "Tick two or more people to merge them. Open a person to see their photos, name them or split faces out.",
      merge_selected: "Merge selected", people_empty: "No people yet: they appear once photos are indexed.",
      show_more: "More", back_to_people: "← All people", person_name: "Name", save: "Save",
      split_selected: "Split selected faces out", remove_person: "Remove person from search",
      faces_photos: "{faces} faces · {photos} photos", unnamed: "Unnamed",
      grouped_at: "Grouped: {at}", merged: "Merged.", split_done: "Faces split out into a new person.",
      named: "Name saved.", removed: "Person removed from search.",
      confirm_merge: "Merge {n} people into one? The decision is kept through any regrouping.",
      confirm_remove: "Remove this person from search? Their faces will no longer be found. It can be undone under Guests while in review.",
      branding_title: "Branding", b_event_name: "Event name", b_event_date: "Date",
      b_studio: "Studio", b_accent: "Button colour", b_logo: "Logo (PNG, JPEG or WebP, up to 256 KB)",
      b_cover: "Cover", b_cover_hint: "Choose a photo for the cover; it is framed on the faces.",
      b_logo_saved: "A logo is set.", b_logo_none: "No logo.", b_logo_new: "New logo: {name} (saved with the branding).",
      b_logo_big: "The logo is over 256 KB.", no_cover: "No cover",
      saved: "Saved.", preview_label: "What guests will see",
      share_title: "QR code and poster", poster_size: "Size", print_poster: "Print poster",
      not_public: "Guests' phones cannot open this address: {reason} The poster is not printed. Operator: set FACEPASS_PUBLIC_BASE_URL (FacePass's public address).",
      usage_title: "Guests per day",
      usage_hint: "Visits: page loads and session checks; searches: selfie searches; opt-outs: guests who asked for their face to be removed. FacePass does not count downloads.",
      col_day: "Day", col_visits: "Visits", col_searches: "Searches", col_downloads: "Downloads",
      col_optouts: "Opt-outs", not_counted: "not counted", usage_empty: "No guests yet.",
      removals_title: "Removals and opt-outs",
      removals_hint: "Can be restored to search for {days} days.", restore: "Restore to search",
      restored: "Restored to search.", reason_opt_out: "Guest opt-out", reason_removal: "Removed by the studio",
      status_in_review: "in review until {until}", status_restored: "restored", status_final: "final",
      removals_empty: "No removals.",
      err_network: "The server cannot be reached.", err_401: "Signed out: sign in again.",
      err_403: "This key is not allowed to do that.", err_404: "Not found.",
      err_413: "The file is too large.", err_429: "Too many requests: wait a little.",
      err_503: "The service is unavailable for now.",
      code_UNSUPPORTED_TYPE: "Not a photo (JPEG, PNG, WebP, HEIC, AVIF, TIFF, GIF, BMP).",
      code_FILE_TOO_LARGE: "The file is over the size limit.",
      code_CORRUPT_IMAGE: "The file is damaged: the image cannot be read.",
      code_EMPTY_FILE: "Empty file.",
      code_SPLIT_ALL_FACES: "Not every face can be split out: keep at least one.",
      code_FORBIDDEN_STUDIO: "This session is not your studio's.",
      code_FORBIDDEN_SCOPE: "The key lacks the scope for this."
    }
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "class") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  var lang = pickLanguage();
  function pickLanguage() {
    var asked = new URLSearchParams(location.search).get("lang");
    var kept = null;
    try { kept = localStorage.getItem(LANG); } catch (e) { kept = null; }
    var chosen = asked || kept || (navigator.language || "ru").slice(0, 2);
    return chosen === "en" ? "en" : "ru";
  }
  function t(key, values) {
    var text = WORDS[lang][key] || WORDS.en[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  function translate() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (node) { node.textContent = t(node.getAttribute("data-i18n")); });
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) { return t("eta_unknown"); }
    return seconds < 90 ? t("seconds", { n: Math.max(1, Math.round(seconds)) }) : t("minutes", { n: Math.round(seconds / 60) });
  }
  function toast(text) {
    var box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  /* ---- the API: one function, the bearer from this tab ---- */
  function token() { try { return sessionStorage.getItem(TOKEN); } catch (e) { return null; } }
  function ApiError(status, code, detail) { this.status = status; this.code = code; this.detail = detail; }
  function reason(err) {
    if (!err || err.status === undefined) { return t("err_network"); }
    if (err.code && WORDS[lang]["code_" + err.code]) { return t("code_" + err.code); }
    if (WORDS[lang]["err_" + err.status]) { return t("err_" + err.status); }
    return err.detail || ("HTTP " + err.status);
  }
  function api(method, path, body, raw) {
    var headers = { Authorization: "Bearer " + token() };
    if (body !== undefined && !(body instanceof FormData)) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    return fetch(path, { method: method, headers: headers, body: body, cache: "no-store" }).then(function (response) {
      if (response.ok) {
        if (raw) { return response.text(); }
        return response.status === 204 ? null : response.json();
      }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        var error = (answer && answer.error) || {};
        if (response.status === 401 && path !== "/api/v1/studio/sessions") { signOut(); }
        throw new ApiError(response.status, error.code, error.detail);
      });
    }, function () { throw new ApiError(undefined); });
  }
  function sessionPath(rest) { return "/api/v1/sessions/" + state.session.id + rest; }

  var state = { sessions: [], session: null, tab: "photos", who: null };

  /* ---- screens and routing (#/events, #/event/ID/TAB) ---- */
  function show(screen) {
    document.body.setAttribute("data-screen", screen);
    ["signin", "events", "event"].forEach(function (name) { $(name).hidden = name !== screen; });
    $("signout").hidden = screen === "signin";
    $("who").hidden = screen === "signin";
  }
  function route() {
    if (!token()) { show("signin"); $("token").focus(); return; }
    var parts = location.hash.replace(/^#\/?/, "").split("/");
    if (parts[0] === "event" && parts[1]) { openEvent(parts[1], parts[2] || "photos"); return; }
    loadEvents();
  }
  function signOut() {
    try { sessionStorage.removeItem(TOKEN); } catch (e) { /* nothing kept */ }
    stopPolling();
    state = { sessions: [], session: null, tab: "photos", who: null };
    location.hash = "";
    show("signin");
  }

  $("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = $("token").value.trim();
    if (!typed) { return; }
    sessionStorage.setItem(TOKEN, typed);
    $("signin-error").hidden = true;
    api("GET", "/api/v1/studio/sessions?limit=200").then(function (page) {
      $("token").value = "";
      showEvents(page);
      if (location.hash.indexOf("#/event/") === 0) { route(); } else { location.hash = "#/events"; }
    }, function (err) {
      sessionStorage.removeItem(TOKEN);
      $("signin-error").textContent = err.status === 401 ? t("signin_bad") : err.code === "FORBIDDEN_SCOPE" ? t("signin_scope") : reason(err);
      $("signin-error").hidden = false;
    });
  });
  $("signout").addEventListener("click", signOut);
  $("lang").addEventListener("click", function () {
    lang = lang === "ru" ? "en" : "ru";
    try { localStorage.setItem(LANG, lang); } catch (e) { /* the choice lasts this page only */ }
    translate();
    route();
  });

  /* ---- events ---- */
  function loadEvents() {
    api("GET", "/api/v1/studio/sessions?limit=200").then(showEvents, function (err) { toast(reason(err)); });
  }
  function showEvents(page) {
    stopPolling();
    state.sessions = page.sessions;
    state.who = page.studio_id ? t("studio_key") : t("operator");
    $("who").textContent = state.who;
    var list = $("events-list");
    list.textContent = "";
    page.sessions.forEach(function (s) {
      var link = el("a", { href: "#/event/" + s.id + "/photos", text: s.name });
      list.appendChild(el("tr", { "data-session": s.id }, [
        el("td", {}, [link]),
        el("td", { class: s.facepass_enabled ? "on" : "off", text: s.facepass_enabled ? t("on") : t("off") }),
        el("td", { text: String(s.photos.total) }),
        el("td", { text: String(s.faces) }),
        el("td", { text: String(s.people) }),
        el("td", { class: "state-" + s.indexing, text: t("state_" + s.indexing) })
      ]));
    });
    $("events-empty").hidden = page.sessions.length > 0;
    if (location.hash.indexOf("#/event/") !== 0) { show("events"); }
  }

  function openEvent(id, tab) {
    var known = state.sessions.filter(function (s) { return s.id === id; })[0];
    if (!known) {
      // Only the studio's own sessions are listed: another studio's is neither shown nor served.
      api("GET", "/api/v1/studio/sessions?limit=200").then(function (page) {
        state.sessions = page.sessions;
        $("who").textContent = page.studio_id ? t("studio_key") : t("operator");
        if (page.sessions.some(function (s) { return s.id === id; })) { openEvent(id, tab); } else { toast(t("code_FORBIDDEN_STUDIO")); location.hash = "#/events"; }
      }, function (err) { toast(reason(err)); });
      return;
    }
    var changed = !state.session || state.session.id !== id;
    state.session = known;
    show("event");
    $("event-title").textContent = known.name;
    $("event-meta").textContent = "FacePass: " + (known.facepass_enabled ? t("on") : t("off"));
    if (changed) { resetEvent(); }
    selectTab(tab);
  }
  function resetEvent() {
    stopPolling();
    $("upload").hidden = true;
    branding.loaded = false;
    people.opened = null;
  }
  function selectTab(tab) {
    state.tab = tab;
    document.querySelectorAll(".tabs a").forEach(function (a) {
      var name = a.getAttribute("data-tab");
      a.href = "#/event/" + state.session.id + "/" + name;
      a.setAttribute("aria-selected", String(name === tab));
    });
    ["photos", "people", "page", "guests"].forEach(function (name) { $("tab-" + name).hidden = name !== tab; });
    if (tab === "photos") { pollIndexing(); } else { stopPolling(); }
    if (tab === "people") { people.load(); }
    if (tab === "page") { branding.load(); }
    if (tab === "guests") { guests.load(); }
  }

  /* ---- photos in: hash, skip known, upload in parallel with progress and ETA ---- */
  var upload = { queue: [], failed: [], running: false };

  function collectEntries(items) {
    // A dropped folder arrives as entries: walk them (readEntries answers in chunks).
    var files = [];
    function walk(entry) {
      if (!entry) { return Promise.resolve(); }
      if (entry.isFile) { return new Promise(function (done) { entry.file(function (f) { files.push(f); done(); }, function () { done(); }); }); }
      var reader = entry.createReader();
      return new Promise(function (done) {
        var all = [];
        (function more() {
          reader.readEntries(function (batch) {
            if (!batch.length) { Promise.all(all.map(walk)).then(function () { done(); }); return; }
            all = all.concat(Array.prototype.slice.call(batch));
            more();
          }, function () { done(); });
        })();
      });
    }
    var entries = Array.prototype.map.call(items, function (item) { return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null; });
    return Promise.all(entries.map(walk)).then(function () { return files; });
  }
  function isPicture(file) {
    // Hidden files (.DS_Store, ._x.jpg) and folders' sidecars are not photos; the server
    // judges the rest by their bytes, not their names.
    return file.name.charAt(0) !== "." && file.size > 0;
  }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function digestAll(files, progress) {
    if (!(window.crypto && crypto.subtle)) { return Promise.resolve(null); }
    var digests = new Array(files.length);
    var next = 0;
    var done = 0;
    function worker() {
      if (next >= files.length) { return Promise.resolve(); }
      var index = next++;
      return files[index].arrayBuffer().then(function (bytes) { return crypto.subtle.digest("SHA-256", bytes); })
        .then(function (d) { digests[index] = hex(d); }, function () { digests[index] = null; })
        .then(function () { done++; progress(done); return worker(); });
    }
    var workers = [];
    for (var i = 0; i < 4; i++) { workers.push(worker()); }
    return Promise.all(workers).then(function () { return digests; });
  }
  function knownDigests(digests) {
    var wanted = digests.filter(Boolean);
    var batches = [];
    for (var i = 0; i < wanted.length; i += CHECK_BATCH) { batches.push(wanted.slice(i, i + CHECK_BATCH)); }
    return Promise.all(batches.map(function (batch) {
      return api("POST", sessionPath("/photos/check"), { sha256: batch });
    })).then(function (answers) {
      var known = {};
      answers.forEach(function (a) { Object.keys(a.known).forEach(function (k) { known[k] = true; }); });
      return known;
    });
  }

  function startUpload(files) {
    files = files.filter(isPicture);
    if (!files.length || !state.session) { return; }
    var total = files.length;
    $("upload").hidden = false;
    $("upload-failures").hidden = true;
    $("upload-failure-list").textContent = "";
    $("upload-bar").value = 0;
    $("upload-text").textContent = t("hashing", { done: 0, total: total });
    var session = state.session.id;
    digestAll(files, function (done) {
      $("upload-text").textContent = t("hashing", { done: done, total: total });
      $("upload-bar").value = done / total / 5;
    }).then(function (digests) {
      if (!digests) { toast(t("no_digest")); return { digests: null, known: {} }; }
      return knownDigests(digests).then(function (known) { return { digests: digests, known: known }; });
    }).then(function (found) {
      var todo = [];
      var skipped = 0;
      files.forEach(function (file, i) {
        if (found.digests && found.known[found.digests[i]]) { skipped++; } else { todo.push(file); }
      });
      return send(session, todo, skipped);
    }).catch(function (err) { $("upload-text").textContent = reason(err); });
  }

  function send(session, files, skipped) {
    var totalBytes = files.reduce(function (n, f) { return n + f.size; }, 0) || 1;
    var sentBytes = 0;
    var inFlight = {};
    var done = 0;
    var failed = [];
    var started = performance.now();
    var next = 0;
    function report() {
      var partial = Object.keys(inFlight).reduce(function (n, k) { return n + inFlight[k]; }, 0);
      var bytes = sentBytes + partial;
      var elapsed = (performance.now() - started) / 1000;
      var rate = elapsed > 1 ? bytes / elapsed : 0;
      var eta = rate ? (totalBytes - bytes) / rate : null;
      $("upload-bar").value = 0.2 + 0.8 * Math.min(1, bytes / totalBytes);
      $("upload-text").textContent = t("upload_progress", { done: done, total: files.length, skipped: skipped, eta: duration(eta) });
    }
    function one(file, attempt) {
      return new Promise(function (resolve) {
        var form = new FormData();
        form.append("files", file, file.webkitRelativePath || file.name);
        var xhr = new XMLHttpRequest();
        var key = String(Math.random());
        xhr.open("POST", "/api/v1/sessions/" + session + "/photos");
        xhr.setRequestHeader("Authorization", "Bearer " + token());
        xhr.upload.onprogress = function (e) { inFlight[key] = e.loaded / (e.total || 1) * file.size; report(); };
        xhr.onloadend = function () {
          delete inFlight[key];
          var answer = null;
          try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
          if (xhr.status === 200 && answer && answer.files && answer.files[0]) {
            var out = answer.files[0];
            sentBytes += file.size;
            if (out.status === "rejected") { failed.push({ file: file, err: new ApiError(200, out.error.code, out.error.detail) }); } else { done++; }
            resolve();
            return;
          }
          var error = (answer && answer.error) || {};
          var err = new ApiError(xhr.status || undefined, error.code, error.detail);
          // A dropped connection or a busy server: try twice more, then list it.
          if ((!xhr.status || xhr.status >= 500 || xhr.status === 429) && attempt < 2) {
            setTimeout(function () { one(file, attempt + 1).then(resolve); }, 1000 * (attempt + 1));
            return;
          }
          sentBytes += file.size;
          failed.push({ file: file, err: err });
          resolve();
        };
        xhr.send(form);
      });
    }
    function worker() {
      if (next >= files.length) { return Promise.resolve(); }
      var file = files[next++];
      return one(file, 0).then(function () { report(); return worker(); });
    }
    var workers = [];
    for (var i = 0; i < PARALLEL; i++) { workers.push(worker()); }
    pollIndexing();
    return Promise.all(workers).then(function () {
      $("upload-bar").value = 1;
      $("upload-text").textContent = t("upload_done", { done: done, skipped: skipped, failed: failed.length });
      upload.failed = failed.map(function (f) { return f.file; });
      var list = $("upload-failure-list");
      list.textContent = "";
      failed.forEach(function (f) {
        list.appendChild(el("li", {}, [el("strong", { text: f.file.webkitRelativePath || f.file.name }), el("span", { text: " — " + reason(f.err) })]));
      });
      $("upload-failures").hidden = failed.length === 0;
      pollIndexing();
    });
  }
  $("upload-retry").addEventListener("click", function () { startUpload(upload.failed); });
  $("pick-files").addEventListener("change", function (e) { startUpload(Array.prototype.slice.call(e.target.files)); e.target.value = ""; });
  $("pick-folder").addEventListener("change", function (e) { startUpload(Array.prototype.slice.call(e.target.files)); e.target.value = ""; });
  var zone = $("dropzone");
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) { zone.addEventListener(name, function () { zone.classList.remove("over"); }); });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    var items = e.dataTransfer.items;
    if (items && items.length && items[0].webkitGetAsEntry) { collectEntries(items).then(startUpload); } else { startUpload(Array.prototype.slice.call(e.dataTransfer.files)); }
  });

  /* ---- indexing, live until complete ---- */
  var polling = null;
  function stopPolling() { if (polling) { clearTimeout(polling); polling = null; } }
  function pollIndexing() {
    stopPolling();
    if (!state.session) { return; }
    var session = state.session.id;
    api("GET", sessionPath("/index-status")).then(function (status) {
      if (!state.session || state.session.id !== session) { return; }
      var p = status.photos;
      var finished = p.indexed + p.failed;
      $("index-bar").value = p.total ? finished / p.total : 0;
      $("indexing").setAttribute("data-complete", String(status.complete && p.total > 0));
      if (!p.total) { $("index-text").textContent = t("index_empty"); } else if (status.complete) {
        $("index-text").textContent = t("index_done", { indexed: p.indexed, total: p.total, faces: status.faces_indexed, failed: p.failed });
      } else {
        $("index-text").textContent = t("index_progress", { indexed: p.indexed, total: p.total, faces: status.faces_indexed, pending: p.pending + p.indexing, eta: duration(status.eta_seconds) });
      }
      if (p.failed) { showIndexFailures(); } else { $("index-failures").hidden = true; }
      if (!status.complete && state.tab === "photos") { polling = setTimeout(pollIndexing, 1500); }
    }, function (err) { $("index-text").textContent = reason(err); });
  }
  function showIndexFailures() {
    api("GET", sessionPath("/photos?status=failed&limit=100")).then(function (page) {
      var list = $("index-failure-list");
      list.textContent = "";
      page.items.forEach(function (photo) {
        var why = WORDS[lang]["code_" + photo.failure_code] ? t("code_" + photo.failure_code) : (photo.failure_detail || photo.failure_code);
        list.appendChild(el("li", {}, [el("strong", { text: photo.original_filename }), el("span", { text: " — " + why })]));
      });
      $("index-failures").hidden = page.items.length === 0;
    });
  }

  /* ---- people ---- */
  function faceCrop(node, face, size) {
    // The thumbnail, scaled and shifted so the face's box (original pixels) fills the tile.
    var box = face.box;
    var w = face.photo_width || box[2];
    var h = face.photo_height || box[3];
    var side = Math.max(box[2] - box[0], box[3] - box[1]) * 1.5;
    var scale = size / side;
    var cx = (box[0] + box[2]) / 2;
    var cy = (box[1] + box[3]) / 2;
    node.style.width = size + "px";
    node.style.height = size + "px";
    node.style.backgroundImage = "url(\"" + face.thumb_url + "\")";
    node.style.backgroundSize = (w * scale) + "px " + (h * scale) + "px";
    node.style.backgroundPosition = (size / 2 - cx * scale) + "px " + (size / 2 - cy * scale) + "px";
  }
  var people = {
    offset: 0, selected: {}, opened: null, picked: {},
    load: function () {
      if (people.opened) { people.open(people.opened); return; }
      $("people-list").hidden = false;
      $("person").hidden = true;
      people.offset = 0;
      people.selected = {};
      $("people-grid").textContent = "";
      people.page();
    },
    page: function () {
      api("GET", sessionPath("/people?limit=60&offset=" + people.offset)).then(function (page) {
        page.people.forEach(people.card);
        people.offset += page.people.length;
        $("people-more").hidden = people.offset >= page.total;
        $("people-empty").hidden = page.total > 0;
        $("people-state").textContent = page.grouped_at ? t("grouped_at", { at: new Date(page.grouped_at).toLocaleString(lang) }) : "";
        people.update();
      }, function (err) { toast(reason(err)); });
    },
    card: function (person) {
      var tile = el("span", { class: "face" });
      if (person.cover) { faceCrop(tile, person.cover, 120); }
      var box = el("input", { type: "checkbox", "aria-label": person.name || t("unnamed") });
      box.addEventListener("change", function () {
        if (box.checked) { people.selected[person.id] = person; } else { delete people.selected[person.id]; }
        people.update();
      });
      var open = el("button", { type: "button", class: "person-open" }, [tile, el("span", { class: "name", text: person.name || t("unnamed") }),
        el("span", { class: "hint", text: t("faces_photos", { faces: person.face_count, photos: person.photo_count }) })]);
      open.addEventListener("click", function () { people.open(person.id); });
      $("people-grid").appendChild(el("li", { class: "person", "data-person": person.id }, [el("label", { class: "pick" }, [box]), open]));
    },
    update: function () { $("merge").disabled = Object.keys(people.selected).length < 2; },
    merge: function () {
      var chosen = Object.keys(people.selected).map(function (id) { return people.selected[id]; });
      if (chosen.length < 2 || !confirm(t("confirm_merge", { n: chosen.length }))) { return; }
      chosen.sort(function (a, b) { return b.face_count - a.face_count; });
      var into = chosen[0].id;
      chosen.slice(1).reduce(function (previous, person) {
        return previous.then(function () { return api("POST", sessionPath("/people/" + person.id + "/merge"), { into: into }); });
      }, Promise.resolve()).then(function () { toast(t("merged")); people.load(); }, function (err) { toast(reason(err)); people.load(); });
    },
    open: function (id) {
      people.opened = id;
      people.picked = {};
      $("people-list").hidden = true;
      $("person").hidden = false;
      $("person").setAttribute("data-person", id);
      $("split").disabled = true;
      api("GET", sessionPath("/people/" + id + "/faces?limit=500")).then(function (page) {
        $("person-name").value = page.name || "";
        $("person-counts").textContent = t("faces_photos", { faces: page.total, photos: new Set(page.faces.map(function (f) { return f.photo_id; })).size });
        var grid = $("person-faces");
        grid.textContent = "";
        page.faces.forEach(function (face) {
          // The whole photo, the face marked on it.
          var photo = el("span", { class: "marked" });
          var img = el("img", { src: face.thumb_url, alt: "", loading: "lazy" });
          var mark = el("span", { class: "mark" });
          var w = face.photo_width || 1;
          var h = face.photo_height || 1;
          mark.style.left = (face.box[0] / w * 100) + "%";
          mark.style.top = (face.box[1] / h * 100) + "%";
          mark.style.width = ((face.box[2] - face.box[0]) / w * 100) + "%";
          mark.style.height = ((face.box[3] - face.box[1]) / h * 100) + "%";
          photo.appendChild(img);
          photo.appendChild(mark);
          var box = el("input", { type: "checkbox", "data-face": String(face.face_id) });
          box.addEventListener("change", function () {
            if (box.checked) { people.picked[face.face_id] = true; } else { delete people.picked[face.face_id]; }
            $("split").disabled = Object.keys(people.picked).length === 0;
          });
          grid.appendChild(el("li", { class: "face-item", "data-face": String(face.face_id) }, [el("label", {}, [photo, box])]));
        });
      }, function (err) { toast(reason(err)); people.back(); });
    },
    back: function () { people.opened = null; people.load(); },
    split: function () {
      var ids = Object.keys(people.picked).map(Number);
      api("POST", sessionPath("/people/" + people.opened + "/split"), { face_ids: ids }).then(function () {
        toast(t("split_done"));
        people.open(people.opened);
      }, function (err) { toast(reason(err)); });
    },
    rename: function (event) {
      event.preventDefault();
      var name = $("person-name").value.trim() || null;
      api("PATCH", sessionPath("/people/" + people.opened), { name: name }).then(function () { toast(t("named")); }, function (err) { toast(reason(err)); });
    },
    remove: function () {
      if (!confirm(t("confirm_remove"))) { return; }
      api("DELETE", sessionPath("/people/" + people.opened)).then(function () { toast(t("removed")); people.back(); }, function (err) { toast(reason(err)); });
    }
  };
  $("merge").addEventListener("click", people.merge);
  $("people-more").addEventListener("click", people.page);
  $("person-back").addEventListener("click", people.back);
  $("split").addEventListener("click", people.split);
  $("name-form").addEventListener("submit", people.rename);
  $("remove-person").addEventListener("click", people.remove);

  /* ---- event page: branding, live preview, QR and poster ---- */
  var branding = {
    loaded: false, cover: null, logo: null, share: null, timer: null,
    load: function () {
      Promise.all([
        api("GET", sessionPath("/branding")),
        api("GET", "/api/v1/studio/sessions/" + state.session.id + "/share"),
        api("GET", sessionPath("/people?limit=24"))
      ]).then(function (answers) {
        var b = answers[0];
        branding.share = answers[1];
        $("b-name").value = b.event_name || "";
        $("b-date").value = b.event_date || "";
        $("b-studio").value = b.studio_name || "";
        $("b-accent").value = b.accent_color || "#0b57d0";
        branding.cover = b.cover_photo_id || null;
        branding.logo = null;
        $("b-logo").value = "";
        branding.hasLogo = !!b.logo_url;
        $("b-logo-state").textContent = b.logo_url ? t("b_logo_saved") : t("b_logo_none");
        branding.covers(answers[2].people);
        branding.showShare();
        branding.preview();
        branding.loaded = true;
      }, function (err) { toast(reason(err)); });
    },
    covers: function (faces) {
      // Candidate covers: the photos of the session's people's faces, framed on that face.
      var list = $("covers");
      list.textContent = "";
      var none = el("button", { type: "button", class: "cover-none", text: t("no_cover") });
      none.addEventListener("click", function () { branding.cover = null; branding.mark(); branding.preview(); });
      list.appendChild(el("li", {}, [none]));
      var seen = {};
      faces.forEach(function (person) {
        var c = person.cover;
        if (!c || seen[c.photo_id]) { return; }
        seen[c.photo_id] = true;
        var img = el("img", { src: c.thumb_url, alt: "" });
        var cx = (c.box[0] + c.box[2]) / 2 / (c.photo_width || 1) * 100;
        var cy = (c.box[1] + c.box[3]) / 2 / (c.photo_height || 1) * 100;
        img.style.objectPosition = cx.toFixed(1) + "% " + cy.toFixed(1) + "%";
        var pick = el("button", { type: "button", class: "cover-pick", "data-photo": c.photo_id }, [img]);
        pick.addEventListener("click", function () { branding.cover = c.photo_id; branding.mark(); branding.preview(); });
        list.appendChild(el("li", {}, [pick]));
      });
      branding.mark();
    },
    mark: function () {
      document.querySelectorAll("#covers button").forEach(function (b) {
        b.setAttribute("aria-pressed", String((b.getAttribute("data-photo") || null) === branding.cover));
      });
    },
    draft: function () {
      var values = { event_name: $("b-name").value.trim() || null, event_date: $("b-date").value || null,
        studio_name: $("b-studio").value.trim() || null, accent_color: $("b-accent").value || null, cover_photo_id: branding.cover };
      return values;
    },
    preview: function () {
      clearTimeout(branding.timer);
      branding.timer = setTimeout(function () {
        var draft = branding.draft();
        var query = new URLSearchParams({ lang: lang });
        Object.keys(draft).forEach(function (k) { if (draft[k]) { query.set(k, draft[k]); } });
        api("GET", "/api/v1/studio/sessions/" + state.session.id + "/preview?" + query.toString(), undefined, true).then(function (html) {
          $("preview").srcdoc = html;
        }, function (err) { toast(reason(err)); });
      }, 250);
    },
    save: function (event) {
      event.preventDefault();
      var body = branding.draft();
      var keepLogo = branding.logo ? Promise.resolve(branding.logo) : branding.hasLogo ? branding.savedLogo() : Promise.resolve(null);
      keepLogo.then(function (logo) {
        body.logo_base64 = logo;
        return api("PUT", sessionPath("/branding"), body);
      }).then(function (saved) {
        branding.hasLogo = !!saved.logo_url;
        branding.logo = null;
        $("b-logo-state").textContent = saved.logo_url ? t("b_logo_saved") : t("b_logo_none");
        $("branding-state").textContent = t("saved");
        branding.preview();
        branding.poster();
      }, function (err) { $("branding-state").textContent = reason(err); });
    },
    savedLogo: function () {
      // PUT replaces every field: the saved logo goes back with the rest unless replaced.
      return fetch(sessionPath("/logo"), { cache: "no-store" }).then(function (r) { return r.ok ? r.blob() : null; }).then(function (blob) {
        return blob ? base64(blob) : null;
      });
    },
    showShare: function () {
      var share = branding.share;
      $("guest-url").href = share.guest_url;
      $("guest-url").textContent = share.guest_url;
      $("qr").src = sessionPath("/qr.svg");
      $("share-warning").hidden = share.public;
      $("share-warning").textContent = share.public ? "" : t("not_public", { reason: share.reason });
      $("print").disabled = !share.public;
      $("poster").hidden = !share.public;
      branding.poster();
    },
    poster: function () {
      if (!branding.share || !branding.share.public) { return; }
      fetch(sessionPath("/poster?size=" + $("poster-size").value), { cache: "no-store" }).then(function (r) { return r.text(); }).then(function (html) {
        $("poster").srcdoc = html;
      });
    },
    print: function () {
      if (!branding.share || !branding.share.public) { toast(t("not_public", { reason: branding.share ? branding.share.reason : "" })); return; }
      $("poster").contentWindow.focus();
      $("poster").contentWindow.print();
    }
  };
  function base64(blob) {
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(",")[1]); };
      reader.readAsDataURL(blob);
    });
  }
  ["b-name", "b-date", "b-studio", "b-accent"].forEach(function (id) { $(id).addEventListener("input", branding.preview); });
  $("b-logo").addEventListener("change", function (e) {
    var file = e.target.files[0];
    if (!file) { return; }
    if (file.size > 256 * 1024) { $("b-logo-state").textContent = t("b_logo_big"); e.target.value = ""; return; }
    base64(file).then(function (data) { branding.logo = data; $("b-logo-state").textContent = t("b_logo_new", { name: file.name }); });
  });
  $("branding-form").addEventListener("submit", branding.save);
  $("poster-size").addEventListener("change", branding.poster);
  $("print").addEventListener("click", branding.print);

  /* ---- guests: usage per day, removals with restore ---- */
  var guests = {
    load: function () {
      Promise.all([
        api("GET", sessionPath("/usage?days=30")),
        api("GET", sessionPath("/removals?limit=200")).catch(function (err) {
          // Removal review is newer than the console: a server without it answers 404.
          if (err.status === 404 && !err.code) { return null; }
          if (err.status === 404 && err.code === "NOT_FOUND") { return null; }
          throw err;
        })
      ]).then(function (answers) { guests.usage(answers[0], answers[1]); guests.removals(answers[1]); }, function (err) { toast(reason(err)); });
    },
    usage: function (usage, removals) {
      var optOuts = {};
      ((removals && removals.removals) || []).forEach(function (r) {
        if (r.reason === "opt_out") { var day = r.created_at.slice(0, 10); optOuts[day] = (optOuts[day] || 0) + 1; }
      });
      var days = {};
      usage.days.forEach(function (d) { days[d.day] = d; });
      Object.keys(optOuts).forEach(function (day) { if (!days[day]) { days[day] = { day: day, validations: 0, searches: 0, opt_outs_unmatched: 0 }; } });
      var list = $("usage-list");
      list.textContent = "";
      var sorted = Object.keys(days).sort().reverse();
      sorted.forEach(function (day) {
        var d = days[day];
        list.appendChild(el("tr", {}, [el("td", { text: new Date(day + "T12:00:00Z").toLocaleDateString(lang) }), el("td", { text: String(d.validations) }),
          el("td", { text: String(d.searches) }), el("td", { class: "hint", text: t("not_counted") }),
          el("td", { text: String((optOuts[day] || 0) + (d.opt_outs_unmatched || 0)) })]));
      });
      if (!sorted.length) { list.appendChild(el("tr", {}, [el("td", { colspan: "5", class: "hint", text: t("usage_empty") })])); }
    },
    removals: function (answer) {
      $("removals").hidden = !answer;
      if (!answer) { return; }
      $("removals-hint").textContent = t("removals_hint", { days: answer.review_days });
      var list = $("removals-list");
      list.textContent = "";
      answer.removals.forEach(function (r) {
        var status = r.status === "in_review" ? t("status_in_review", { until: new Date(r.review_until).toLocaleDateString(lang) }) : t("status_" + r.status);
        var item = el("li", { "data-removal": r.id }, [el("strong", { text: t("reason_" + r.reason) }),
          el("span", { text: " · " + new Date(r.created_at).toLocaleString(lang) + " · " + t("faces_photos", { faces: r.faces_removed, photos: r.photos_affected }) + " · " + status })]);
        if (r.restorable) {
          var button = el("button", { type: "button", class: "button secondary", text: t("restore") });
          button.addEventListener("click", function () {
            api("POST", sessionPath("/removals/" + r.id + "/restore")).then(function () { toast(t("restored")); guests.load(); }, function (err) { toast(reason(err)); });
          });
          item.appendChild(button);
        }
        list.appendChild(item);
      });
      if (!answer.removals.length) { list.appendChild(el("li", { class: "hint", text: t("removals_empty") })); }
    }
  };

  window.addEventListener("hashchange", route);
  translate();
  route();
})();
