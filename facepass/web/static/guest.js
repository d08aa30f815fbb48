/* The guest page: consent -> camera or gallery (plus optional turned angles) -> search ->
   a gallery that lasts (results token in this browser), saving on phones.
   No framework and no external requests; everything it needs comes from the same origin. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("config").textContent);
  var t = config.t;
  var $ = function (id) { return document.getElementById(id); };
  var STORE = "facepass:results:" + config.session_id;
  var CONSENT = "facepass:consent:" + config.session_id;
  var DEVICE = "facepass:device";
  var DEVICE_MAX_AGE_S = 7 * 24 * 3600;
  var selfies = [];          // {blob, url, angle}
  var optingOut = false;     // the next selfie goes to the opt-out, not to a search
  var optOutConfirmed = false;  // the guest said "Yes, remove me" on the confirmation step
  var challenge = null;      // the live-selfie challenge {id, direction} the camera pair answers
  var liveSent = false;      // a live pair is on its way: any failure starts a new challenge
  var answer = null;         // {results_token, query_token, results_expires_at, expires_at, matches}
  var shown = 0;
  var lightboxIndex = -1;
  var stream = null;
  var countdown = null;
  var upload = null;         // the XHR in flight
  var pendingAngle = null;   // "left" / "right" while the camera takes a turned selfie
  var selecting = false;
  var selected = {};         // photo_id -> true
  var refreshing = null;     // the promise of a links refresh in flight
  var lastRefresh = 0;
  var fromGallery = false;   // the selfie is a chosen photo, not the camera's
  var order = [];            // gallery position -> index in answer.matches
  var batch = null;          // saving to the phone in share-sheet batches: {indexes, done, files}
  var recovering = null;     // the timer that retries while the server is unreachable
  var adding = false;        // "me and my family": the next search adds a person to the results

  /* ---- small helpers ---- */

  function store(kind) {
    try { return window[kind]; } catch (e) { return null; }
  }
  function load(key) {
    var s = store("localStorage");
    try { return s ? JSON.parse(s.getItem(key) || "null") : null; } catch (e) { return null; }
  }
  function save(key, value) {
    var s = store("localStorage");
    try { if (s) { s.setItem(key, JSON.stringify(value)); } } catch (e) { /* full or private */ }
  }
  function forget(key) {
    var s = store("localStorage");
    try { if (s) { s.removeItem(key); } } catch (e) { /* private mode */ }
  }
  function now() { return Date.now() / 1000; }

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function announce(text) { $("status").textContent = text; }

  function showMessage(text, retry) {
    clearInterval(countdown);
    $("countdown").hidden = true;
    $("message-text").textContent = text || "";
    $("message").hidden = !text;
    $("message-retry").hidden = !retry;
    $("message-retry").onclick = retry || null;
  }

  /* A neutral, visible answer (a recheck's result, a declined consent), read out as well. */
  function showNotice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
    if (text) { announce(text); }
  }

  function show(view) {
    showNotice("");
    var views = document.querySelectorAll("[data-view]");
    for (var i = 0; i < views.length; i++) { views[i].hidden = views[i].id !== view; }
    document.body.setAttribute("data-state", view);
    $("after-results").hidden = view !== "results" && view !== "no-results";
  }

  function pluralKey(n) {
    if (config.lang === "ru") {
      var d = n % 10, h = n % 100;
      if (d === 1 && h !== 11) return "found_one";
      if (d >= 2 && d <= 4 && (h < 12 || h > 14)) return "found_few";
      return "found_many";
    }
    return n === 1 ? "found_one" : "found_many";
  }

  /* ---- history: the camera, review, opt-out and declined steps each get an entry, so a
     phone's Back goes one step back instead of leaving the page (and the selfie) ---- */

  function historyStep() { return (history.state && history.state.fp) || ""; }

  function enterStep(step) {
    if (historyStep() !== step) { history.pushState({ fp: step }, ""); }
  }

  /* Back (or Forward) landed on another entry: show that step, or the start. */
  function onPopState() {
    var step = historyStep();
    if ($("lightbox").open) {
      if (step !== "lightbox") { $("lightbox").close(); }
      return;
    }
    var view = document.body.getAttribute("data-state");
    if (step === view) return;
    if (upload) { cancelUpload(); return; }  // Back while sending: the selfie stays for a retry
    if (view === "camera") { stopCamera(); }
    if (optingOut && step !== "review" && step !== "camera") { endOptOut(); }
    if (adding && step !== "review" && step !== "camera") { adding = false; }
    if (step === "family-consent" && answer) { showFamilyConsent(); return; }
    if (step === "review" && selfies.length) { showReview(); return; }
    if (step === "camera") { startCamera(pendingAngle); return; }
    if (step === "opt-out" && answer) { startOptOut(); return; }
    clearSelfies();
    backToStart();
  }

  function backToStart() {
    if (answer) { renderResults(); } else { showIntroOrConsent(); }
  }

  function deviceToken() {
    var kept = load(DEVICE);
    if (kept && typeof kept === "string") {
      var issued = parseInt(kept.split(".")[1], 10);
      if (issued && now() - issued < DEVICE_MAX_AGE_S) { return kept; }
    }
    save(DEVICE, config.device_token);
    return config.device_token;
  }

  function errorCode(body) {
    return body && body.error && typeof body.error.code === "string" ? body.error.code : "";
  }

  /* ---- consent ---- */

  function consented() { return load(CONSENT) === config.consent_version; }

  function agree() {
    save(CONSENT, config.consent_version);
    showMessage("");
    showIntro();
  }

  function showIntro() {
    show("intro");
    $("start-camera").focus();
  }

  function showConsent() {
    show("consent");
    $("consent-title").focus();
  }

  /* "Not now" is an answer, not an error: nothing was sent, and the way back is one tap. */
  function decline() {
    showMessage("");
    show("declined");
    enterStep("declined");
    $("declined-text").focus();
    announce(t.consent_declined);
  }

  /* ---- camera ---- */

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    $("video").srcObject = null;
  }

  function cameraAvailable() {
    return !!(window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function startCamera(angle) {
    if (!consented() && !optingOut) { showConsent(); return; }
    showMessage("");
    pendingAngle = angle || null;
    if (!cameraAvailable()) {
      cameraFailed({ name: "NotFoundError" });
      return;
    }
    show("camera");
    enterStep("camera");
    $("camera-guide").textContent = angle ? t["angle_" + angle + "_guide"] : t.camera_guide;
    $("capture").disabled = true;
    announce(t.camera_starting);
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 960 } },
      audio: false
    }).then(function (media) {
      stream = media;
      var video = $("video");
      video.srcObject = media;
      video.onloadedmetadata = function () {
        video.play();
        $("capture").disabled = false;
        $("capture").focus();
        announce($("camera-guide").textContent);
      };
    }).catch(cameraFailed);
  }

  /* After a denial (or with no camera) the gallery becomes the main way in. */
  function promoteUpload() {
    $("upload-label").classList.remove("secondary");
    $("upload-label").classList.add("primary");
    $("start-camera").classList.remove("primary");
    $("start-camera").classList.add("secondary");
    $("intro-actions").insertBefore($("file-input"), $("start-camera"));
    $("intro-actions").insertBefore($("upload-label"), $("start-camera"));
    $("upload-hint").textContent = t.upload_primary_hint;
  }

  function cameraFailed(error) {
    stopCamera();
    var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
    challenge = null;
    promoteUpload();
    if (selfies.length) { showReview(); } else { show("intro"); }
    showMessage(liveRequired() ? t.camera_required : denied ? t.camera_denied : t.camera_absent);
    $("upload-label").focus();
  }

  function capture() {
    fromGallery = false;
    var video = $("video");
    var canvas = document.createElement("canvas");
    var scale = Math.min(1, config.max_side / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    var angle = pendingAngle;
    canvas.toBlob(function (blob) {
      stopCamera();
      addSelfie(blob, angle);
      if (historyStep() === "camera") { history.replaceState({ fp: "review" }, ""); }
      showReview();
    }, "image/jpeg", 0.9);
  }

  /* ---- live selfie: a challenge, the frontal frame, the turn it asks for ---- */

  function liveRequired() { return optingOut || config.selfie_policy === "live"; }

  /* The gallery only where the policy lets a photo search (never for an opt-out). */
  function applySelfiePolicy() {
    var gallery = !liveRequired();
    $("upload-label").hidden = !gallery;
    $("upload-hint").hidden = !gallery;
  }

  /* live_or_gallery: the camera as before (optional angles); else the live pair. */
  function startSelfie() {
    if (liveRequired()) { startLive(); } else { clearSelfies(); startCamera(null); }
  }

  function startLive() {
    if (!consented() && !optingOut) { showConsent(); return; }
    clearSelfies();
    challenge = null;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", config.challenge_url);
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader(config.device_header, deviceToken());
    xhr.onload = function () {
      var body = xhr.response;
      if (xhr.status === 200 && body && body.challenge_id) {
        challenge = { id: body.challenge_id, direction: body.direction };
        startCamera(null);
      } else {
        handleAnswer(xhr.status, body, xhr.getResponseHeader("Retry-After"), startLive, false);
      }
    };
    xhr.onerror = function () { failed(t.NETWORK, startLive); };
    xhr.send();
  }

  function livePairTaken() {
    return !!challenge && selfies.length === 2 && selfies[1].angle === challenge.direction;
  }

  /* After the frontal frame: only the asked turn, no search before it. */
  function liveReview(angleButtons) {
    for (var i = 0; i < angleButtons.length; i++) {
      angleButtons[i].hidden = angleButtons[i].getAttribute("data-angle") !== challenge.direction;
    }
    var done = livePairTaken();
    $("angles").hidden = done;
    $("angles").querySelector("h2").textContent = t.live_title;
    $("angles").querySelector(".hint").textContent = t.live_hint;
    $("search").disabled = !done;
    (done ? $("search") : $("angles").querySelector("button:not([hidden])")).focus();
  }

  /* ---- selfies ---- */

  function addSelfie(blob, angle) {
    selfies.push({ blob: blob, url: URL.createObjectURL(blob), angle: angle || "front" });
    while (selfies.length > config.max_selfies) { URL.revokeObjectURL(selfies.shift().url); }
  }

  function clearSelfies() {
    selfies.forEach(function (s) { URL.revokeObjectURL(s.url); });
    selfies = [];
  }

  function showReview() {
    var list = $("selfies");
    list.textContent = "";
    selfies.forEach(function (selfie, index) {
      var item = document.createElement("li");
      var img = document.createElement("img");
      img.src = selfie.url;
      img.alt = format(t.selfie_label, { n: index + 1 });
      img.setAttribute("data-pose", selfie.angle);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button secondary remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", t.remove + " " + format(t.selfie_label, { n: index + 1 }));
      remove.addEventListener("click", function () {
        if (challenge) { challenge = null; clearSelfies(); showIntro(); return; }  // a pair or nothing
        URL.revokeObjectURL(selfie.url);
        selfies.splice(index, 1);
        if (selfies.length) { showReview(); } else { showIntro(); }
      });
      item.appendChild(img);
      item.appendChild(remove);
      list.appendChild(item);
    });
    var taken = {};
    selfies.forEach(function (s) { taken[s.angle] = true; });
    var angleButtons = document.querySelectorAll("button[data-angle]");
    for (var i = 0; i < angleButtons.length; i++) {
      angleButtons[i].hidden = !!taken[angleButtons[i].getAttribute("data-angle")];
    }
    $("angles").hidden = selfies.length >= config.max_selfies || !cameraAvailable() || !!stream;
    show("review");
    enterStep("review");
    if (challenge) { liveReview(angleButtons); } else { $("search").focus(); }
  }

  /* Downscale a chosen photo to ~max_side px JPEG before it leaves the phone. */
  function downscale(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        URL.revokeObjectURL(url);
        var scale = Math.min(1, config.max_side / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.9);
      };
      // A format the browser cannot draw (e.g. HEIC on some phones): send it as-is.
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };
      img.src = url;
    });
  }

  function onFileChosen() {
    var file = $("file-input").files[0];
    $("file-input").value = "";
    if (!file || liveRequired()) return;
    if (!consented() && !optingOut) { showConsent(); return; }
    showMessage("");
    fromGallery = true;
    show("progress");
    $("progress-text").textContent = t.preparing;
    downscale(file).then(function (blob) {
      addSelfie(blob, "front");
      search();
    });
  }

  /* ---- search ---- */

  function send(url, body, json) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.timeout = config.upload_timeout_ms;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader(config.device_header, deviceToken());
    if (json) { xhr.setRequestHeader("Content-Type", "application/json"); }
    upload = xhr;
    xhr.send(json ? JSON.stringify(body) : body);
    return xhr;
  }

  function search() {
    if (!selfies.length) return;
    if (optingOut && !optOutConfirmed) { confirmOptOut(); return; }
    var url = optingOut ? config.opt_out_url : config.search_url;
    showMessage("");
    show("progress");
    var bar = $("progress-bar");
    bar.value = 0;
    $("progress-text").textContent = t.uploading;
    announce(t.uploading);
    var body = new FormData();
    body.append("consent_version", config.consent_version);
    var retry = search;
    if (challenge) {
      body.append("challenge_id", challenge.id);  // used up by this request, whatever its answer
      challenge = null;
      liveSent = true;
      retry = startLive;
    }
    selfies.forEach(function (selfie, index) { body.append("selfie", selfie.blob, "selfie-" + index + ".jpg"); });
    var xhr = send(url, body, false);
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    };
    xhr.upload.onload = function () {
      bar.removeAttribute("value");  // indeterminate while the server looks
      $("progress-text").textContent = t.searching;
      announce(t.searching);
    };
    wire(xhr, retry, false);
  }

  function recheck() {
    if (!answer || !answer.query_token) return;
    var before = {};
    (answer.matches || []).forEach(function (m) { before[m.photo_id] = true; });
    if (answer.people && answer.people.length > 1) { recheckFamily(before); return; }
    showMessage("");
    show("progress");
    $("progress-bar").removeAttribute("value");
    $("progress-text").textContent = t.checking_new;
    announce(t.checking_new);
    var xhr = send(config.recheck_url, { query_token: answer.query_token }, true);
    wire(xhr, recheck, before);
  }

  function wire(xhr, again, before) {
    xhr.onload = function () {
      upload = null;
      handleAnswer(xhr.status, xhr.response, xhr.getResponseHeader("Retry-After"), again, before);
    };
    xhr.onerror = function () { upload = null; failed(t.NETWORK, again); };
    xhr.ontimeout = function () { upload = null; failed(t.TIMEOUT, again); };
    xhr.onabort = function () { upload = null; failed(t.cancelled, again); };
  }

  function cancelUpload() {
    if (upload) { upload.abort(); }
  }

  function handleAnswer(status, body, retryAfter, again, before) {
    if (optingOut && status === 200 && body) {
      optedOut(body);
      return;
    }
    if (status === 200 && body && adding) {
      adding = false;
      clearSelfies();
      addPerson(body);
      return;
    }
    liveSent = false;
    if (status === 200 && body) {
      clearSelfies();
      keep(body);
      showResults(before);
      return;
    }
    var code = errorCode(body);
    if (/^(LIVE|CHALLENGE)_/.test(code)) {
      clearSelfies();
      failed(t[code] || t[code.charAt(0) === "C" ? "CHALLENGE_INVALID" : "LIVE_SELFIE_REQUIRED"], startLive);
      return;
    }
    if (status === 429 && code === "SERVER_BUSY") {
      waitInLine(parseInt(retryAfter || "2", 10), again);
    } else if (status === 429) {
      rateLimited(parseInt(retryAfter || "60", 10), again);
    } else if (status === 422 && !before) {
      // Face codes have advice of their own; anything else means the file itself is unusable.
      clearSelfies();
      var face = code.indexOf("FACE") >= 0;
      // A chosen photo cannot "look at the camera": its advice is to choose another one.
      if (face && fromGallery) { failed(t.NO_FACE_FOUND_PHOTO); return; }
      failed(t[code] || (face ? t.NO_FACE_FOUND : t.INVALID_IMAGE));
    } else if (status === 413) {
      clearSelfies();
      failed(t.SELFIE_TOO_LARGE);
    } else if (before && (status === 403 || status === 409 || status === 422)) {
      dropResults();
      failed(code === "FACEPASS_DISABLED" ? t.SESSION_GONE : t.RESULTS_GONE);
    } else if (status === 403 || status === 404) {
      failed(t.SESSION_GONE);
    } else {
      failed(t.UNAVAILABLE, again);
    }
  }

  /* Back to where the guest was, with the message and, where it helps, a retry button. */
  function failed(text, again) {
    if (liveSent) { liveSent = false; clearSelfies(); }  // its challenge is used up
    if (selfies.length) { showReview(); } else if (answer) { renderResults(); } else { showIntro(); }
    showMessage(text, again ? function () { showMessage(""); again(); } : null);
    announce(text);
  }

  /* The server is full (429 SERVER_BUSY): the guest keeps the progress view and is told they
     are next, and the same request goes again after Retry-After; Cancel stops the wait. */
  function waitInLine(seconds, again) {
    var wait = isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) : 2;
    show("progress");
    $("progress-bar").removeAttribute("value");
    $("progress-text").textContent = t.busy_wait;
    announce(t.busy_wait);
    var timer = setTimeout(function () { upload = null; again(); }, wait * 1000);
    upload = { abort: function () { clearTimeout(timer); upload = null; failed(t.cancelled, again); } };
  }

  /* The countdown is shown, not read out every second: one announcement now, one at the end. */
  function rateLimited(seconds, again) {
    var left = isFinite(seconds) && seconds > 0 ? seconds : 60;
    failed(t.rate_wait);
    setSearchEnabled(false);
    var clock = $("countdown");
    clock.hidden = false;
    clock.textContent = format(t.RATE_LIMITED, { s: left });
    announce(format(t.RATE_LIMITED, { s: left }));
    countdown = setInterval(function () {
      left -= 1;
      if (left <= 0) {
        clearInterval(countdown);
        setSearchEnabled(true);
        showMessage(t.rate_ready, again ? function () { showMessage(""); again(); } : null);
        announce(t.rate_ready);
        return;
      }
      clock.textContent = format(t.RATE_LIMITED, { s: left });
    }, 1000);
  }

  function setSearchEnabled(enabled) {
    ["search", "start-camera", "retake", "check-new", "check-new-empty"].forEach(function (id) {
      $(id).disabled = !enabled;
    });
    $("file-input").disabled = !enabled;
  }

  /* ---- results that last ---- */

  function keep(body) {
    answer = {
      results_token: body.results_token,
      query_token: body.query_token || (answer && answer.query_token),
      results_expires_at: body.results_expires_at,
      expires_at: body.expires_at,
      matches: body.matches || [],
      index: body.index || null,
      fresh: (answer && answer.fresh) || {},   // photo_id -> true: found by the last recheck
      people: (answer && answer.people) || null, // "me and my family": [{query_token}] per person
      order: (answer && answer.order) || "best"
    };
    save(STORE, answer);
  }

  function dropResults() {
    answer = null;
    forget(STORE);
  }

  /* New signed links for the same photos (the old ones expired, or are about to). */
  function refreshLinks() {
    if (refreshing) return refreshing;
    lastRefresh = now();
    var url = config.results_url + "?token=" + encodeURIComponent(answer.results_token);
    refreshing = fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        refreshing = null;
        if (!response.ok) {
          var error = new Error(errorCode(body) || "HTTP_" + response.status);
          error.status = response.status;
          throw error;
        }
        var byId = {};
        body.matches.forEach(function (m) { byId[m.photo_id] = m; });
        // Keep the search's order and similarity; photos deleted since drop out.
        var merged = [];
        answer.matches.forEach(function (m) { if (byId[m.photo_id]) { merged.push(byId[m.photo_id]); } });
        answer.matches = merged;
        answer.expires_at = body.expires_at;
        save(STORE, answer);
        return answer;
      });
    }, function (error) { refreshing = null; throw error; });
    return refreshing;
  }

  function linksFresh() { return answer && answer.expires_at - 60 > now(); }

  function ensureFresh() {
    return linksFresh() ? Promise.resolve(answer) : refreshLinks();
  }

  function resultsGone(error) {
    if (error && (error.status === 403 || error.status === 404)) {
      var disabled = error.message === "FACEPASS_DISABLED";
      dropResults();
      showIntroOrConsent();
      showMessage(disabled ? t.SESSION_GONE : t.RESULTS_GONE);
      return true;
    }
    return false;
  }

  /* A thumbnail or the full view failed (an expired link): refresh once, quietly. If the
     server cannot be reached, say so and keep trying: the banner goes when it is back. */
  function imageFailed() {
    if (!answer || recovering || now() - lastRefresh < 10) return;
    refreshLinks().then(function () {
      updateSources();
    }, function (error) {
      if (!resultsGone(error)) { unreachable(); }
    });
  }

  function unreachable() {
    showMessage(t.UNAVAILABLE, function () { recover().catch(unreachable); });
    if (!recovering) {
      recovering = setInterval(function () { recover().catch(function () { /* still away */ }); }, 5000);
    }
  }

  function recover() {
    if (!answer) { clearInterval(recovering); recovering = null; return Promise.resolve(); }
    return refreshLinks().then(function () {
      clearInterval(recovering);
      recovering = null;
      showMessage("");
      updateSources();
      showNotice(t.back_online);
    }, function (error) {
      if (resultsGone(error)) { clearInterval(recovering); recovering = null; return; }
      throw error;
    });
  }

  /* The full view's own error, inside the dialog (a banner on the page is hidden behind it). */
  function lightboxImageFailed() {
    $("lightbox-image").hidden = true;
    $("lightbox-error").hidden = false;
    imageFailed();
  }

  function retryLightbox() {
    $("lightbox-error").hidden = true;
    $("lightbox-image").hidden = false;
    recover().catch(function () { lightboxImageFailed(); unreachable(); });
  }

  function updateSources() {
    var images = document.querySelectorAll("#gallery img");
    for (var i = 0; i < images.length; i++) {
      var match = answer.matches[parseInt(images[i].getAttribute("data-index"), 10)];
      if (match) { images[i].src = thumbSource(match); }
    }
    if ($("lightbox").open && answer.matches[order[lightboxIndex]]) {
      $("lightbox-image").src = answer.matches[order[lightboxIndex]].large_url;
    }
  }

  /* ---- gallery ---- */

  function showResults(before) {
    selected = {};
    batch = null;
    setSelecting(false);
    if (before) {
      answer.fresh = {};
      answer.matches.forEach(function (m) { if (!before[m.photo_id]) { answer.fresh[m.photo_id] = true; } });
      save(STORE, answer);
    }
    renderResults();
    if (before) {
      var fresh = Object.keys(answer.fresh).length;
      showMessage("");
      showNotice(fresh ? format(t.new_photos, { n: fresh }) : t.no_new_photos);
    }
  }

  function renderResults() {
    var matches = answer.matches;
    shown = 0;
    $("gallery").textContent = "";
    history.replaceState({ fp: "results" }, "");
    if (!matches.length) {
      var index = answer.index || {};
      var pending = index.photos_pending || 0;
      $("index-state").textContent = format(pending ? t.index_state : t.index_state_done, {
        indexed: index.photos_indexed || 0, pending: pending
      });
      show("no-results");
      $("no-results-title").focus();
      announce(t.no_results_title);
      return;
    }
    var title = family() ? format(t.family_found, { n: matches.length })
      : format(t[pluralKey(matches.length)], { n: matches.length });
    $("results-title").textContent = title;
    order = arrange(matches, answer.order);
    markOrder();
    $("save-all").textContent = canShareFiles() ? t.save_all_photos : t.save_all_zip;
    $("download-all").hidden = !canShareFiles();
    $("check-new").hidden = !answer.query_token;  // a results link has no search to repeat
    showMore();
    show("results");
    $("results-title").focus();
    announce(title);
  }

  /* Gallery positions: new photos (of a recheck) first, then best match or time taken
     (the photo's capture time; photos without one last, by match). */
  function arrange(matches, by) {
    var fresh = answer.fresh || {};
    var taken = function (m) {
      var time = m.captured_at ? Date.parse(m.captured_at) : NaN;
      return isFinite(time) ? time : Infinity;
    };
    var positions = matches.map(function (_, i) { return i; });
    positions.sort(function (a, b) {
      var newer = (fresh[matches[b].photo_id] ? 1 : 0) - (fresh[matches[a].photo_id] ? 1 : 0);
      if (newer) return newer;
      if (by === "time") {
        var ta = taken(matches[a]), tb = taken(matches[b]);
        if (ta !== tb) return ta < tb ? -1 : 1;
      }
      return a - b;
    });
    return positions;
  }

  function markOrder() {
    var by = answer.order === "time" ? "time" : "best";
    $("order-best").setAttribute("aria-pressed", by === "best" ? "true" : "false");
    $("order-time").setAttribute("aria-pressed", by === "time" ? "true" : "false");
  }

  /* The toggle is kept with the results: a reload or a return shows the same order. */
  function setOrder(by) {
    if (!answer || answer.order === by) return;
    answer.order = by;
    save(STORE, answer);
    renderResults();
  }

  /* The server's square crop around the guest's face (zoomed in on a group photo); results
     kept from before it existed pan the plain thumbnail to the face instead. */
  function thumbSource(match) { return match.face_url || match.thumb_url; }

  /* Crop around the guest's face: the thumbnail keeps the photo's proportions. */
  function facePosition(match) {
    if (!match.width || !match.height || !match.box || match.box.length !== 4) return "50% 50%";
    var cx = (match.box[0] + match.box[2]) / 2 / match.width;
    var cy = (match.box[1] + match.box[3]) / 2 / match.height;
    var clamp = function (v) { return Math.max(0, Math.min(100, Math.round(v * 1000) / 10)); };
    return clamp(cx) + "% " + clamp(cy) + "%";
  }

  function showMore() {
    var gallery = $("gallery");
    var matches = answer.matches;
    var end = Math.min(matches.length, shown + config.page_size);
    for (var position = shown; position < end; position++) {
      var i = order[position];
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-index", String(i));
      var img = document.createElement("img");
      img.src = thumbSource(matches[i]);
      img.loading = "lazy";
      img.decoding = "async";
      img.alt = format(t.photo_alt, { n: position + 1 });
      if (!matches[i].face_url) { img.style.objectPosition = facePosition(matches[i]); }
      img.setAttribute("data-index", String(i));
      img.setAttribute("data-photo-id", matches[i].photo_id);
      img.addEventListener("error", imageFailed);
      button.appendChild(img);
      button.addEventListener("click", onThumb.bind(null, position, button));
      var check = document.createElement("span");
      check.className = "check";
      check.setAttribute("aria-hidden", "true");
      item.appendChild(button);
      item.appendChild(check);
      if (family()) {
        var names = (matches[i].people || [0]).map(personName).join(" + ");
        var who = document.createElement("span");
        who.className = "who";
        who.textContent = names;
        item.appendChild(who);
        img.alt += " · " + format(t.who, { names: names });
      }
      if (answer.fresh && answer.fresh[matches[i].photo_id]) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = t.new_badge;
        item.appendChild(badge);
        img.alt += " · " + t.new_badge;
      }
      gallery.appendChild(item);
    }
    shown = end;
    $("show-more").hidden = shown >= matches.length;
    markSelection();
  }

  function onThumb(position, button) {
    if (!selecting) { openLightbox(position, true); return; }
    var id = answer.matches[order[position]].photo_id;
    if (selected[id]) { delete selected[id]; } else { selected[id] = true; }
    button.setAttribute("aria-pressed", selected[id] ? "true" : "false");
    markSelection();
  }

  function setSelecting(on) {
    selecting = on;
    document.body.classList.toggle("selecting", on);
    $("select-mode").setAttribute("aria-pressed", on ? "true" : "false");
    $("select-mode").textContent = on ? t.select_done : t.select;
    $("selection-bar").hidden = !on;
    if (!on) { selected = {}; }
    var buttons = document.querySelectorAll("#gallery button");
    for (var i = 0; i < buttons.length; i++) {
      if (on) { buttons[i].setAttribute("aria-pressed", "false"); } else { buttons[i].removeAttribute("aria-pressed"); }
    }
    markSelection();
  }

  function selectAll() {
    answer.matches.forEach(function (m) { selected[m.photo_id] = true; });
    var buttons = document.querySelectorAll("#gallery button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-pressed", "true"); }
    markSelection();
  }

  function markSelection() {
    var count = Object.keys(selected).length;
    $("selection-count").textContent = format(t.selected, { n: count });
    $("save-selected").disabled = count === 0;
  }

  /* ---- lightbox (Back closes it) ---- */

  function openLightbox(index, push) {
    lightboxIndex = index;
    var match = answer.matches[order[index]];
    var image = $("lightbox-image");
    image.onerror = lightboxImageFailed;
    image.onload = function () { $("lightbox-error").hidden = true; image.hidden = false; };
    $("lightbox-error").hidden = true;
    image.hidden = false;
    image.src = match.large_url;
    image.alt = format(t.photo_alt, { n: index + 1 });
    $("lightbox-counter").textContent = format(t.counter, { n: index + 1, total: answer.matches.length });
    $("lightbox-prev").disabled = index === 0;
    $("lightbox-next").disabled = index === answer.matches.length - 1;
    var dialog = $("lightbox");
    if (!dialog.open) {
      if (push) { history.pushState({ fp: "lightbox" }, ""); }
      dialog.showModal();
    }
  }

  function stepLightbox(delta) {
    var next = lightboxIndex + delta;
    if (next >= 0 && next < answer.matches.length) { openLightbox(next, false); }
  }

  function closeLightbox() {
    if (history.state && history.state.fp === "lightbox") { history.back(); } else { $("lightbox").close(); }
  }

  function swipe(element) {
    var startX = null, startY = 0;
    element.addEventListener("pointerdown", function (event) { startX = event.clientX; startY = event.clientY; });
    element.addEventListener("pointerup", function (event) {
      if (startX === null) return;
      var dx = event.clientX - startX, dy = event.clientY - startY;
      startX = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) { stepLightbox(dx < 0 ? 1 : -1); }
    });
  }

  /* ---- saving: share sheet, single download, ZIP; errors in the guest's language ---- */

  function fail(code, status) {
    var error = new Error(code || "HTTP_" + status);
    error.status = status;
    return error;
  }

  function fetchOk(url, options, retried) {
    return fetch(url, options).then(function (response) {
      if (response.ok) return response;
      return response.json().catch(function () { return null; }).then(function (body) {
        var code = errorCode(body);
        if (!retried && (code === "LINK_EXPIRED" || code === "INVALID_SIGNATURE")) {
          return refreshLinks().then(function () { return null; });
        }
        throw fail(code, response.status);
      });
    });
  }

  /* Stable names: the event and the photo's own id, the same on every save and order. */
  function fileName(match, blob) {
    var ext = (blob.type.split("/")[1] || "jpg").replace("jpeg", "jpg");
    return slug(config.event_name) + "-" + String(match.photo_id).slice(0, 8) + "." + ext;
  }

  function slug(text) {
    var cleaned = String(text || "photos").replace(/[\\/:*?"<>|#%\u0000-\u001f]+/g, " ").trim();
    return cleaned.replace(/\s+/g, "-").slice(0, 60) || "photos";
  }

  /* The ZIP is named after the event (and its date), not the day it was saved. */
  function zipName() {
    return slug(config.event_name) + (config.event_date ? "-" + config.event_date : "") + ".zip";
  }

  /* One original as a blob, refreshing its link once if it has expired. */
  function original(index) {
    var url = function () { return answer.matches[index].original_url; };
    return fetchOk(url(), {}, false).then(function (response) {
      return response || fetchOk(url(), {}, true);
    }).then(function (response) { return response.blob(); });
  }

  function saveBlob(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function canShareFiles() {
    if (!navigator.canShare || !navigator.share || typeof File !== "function") return false;
    try {
      return navigator.canShare({ files: [new File([""], "probe.jpg", { type: "image/jpeg" })] });
    } catch (e) { return false; }
  }

  function saving(promise) {
    announce(t.saving);
    $("status").textContent = t.saving;
    return promise.then(function () { announce(t.saved); }, function (error) {
      if (error && error.name === "AbortError") return;  // the guest closed the share sheet
      var gone = error && (error.message === "PHOTO_NOT_FOUND" || error.status === 404);
      showMessage(gone ? t.DOWNLOAD_GONE : t.DOWNLOAD_FAILED);
      announce($("message-text").textContent);
    });
  }

  /* Photos (indexes) to the phone: the share sheet (Save to Photos) where it takes files,
     a batch per tap; else one download, else a ZIP. */
  function saveMatches(indexes, whole) {
    showMessage("");
    if (!indexes.length) return Promise.resolve();
    if (canShareFiles()) {
      batch = { indexes: indexes, done: 0, files: null, whole: !!whole };
      return shareNext();
    }
    return saving(ensureFresh().then(function () {
      if (indexes.length === 1) {
        return original(indexes[0]).then(function (blob) {
          saveBlob(blob, fileName(answer.matches[indexes[0]], blob));
        });
      }
      return zip(indexes);
    }));
  }

  /* "Save all to Photos": the share sheet takes a batch at a time (phones refuse long lists),
     each batch a tap of its own (a share needs the guest's tap). Files fetched after the tap
     can outlive it: then they are kept ready and the next tap shares them at once. */
  function saveAll() {
    if (!canShareFiles()) {
      showMessage("");
      return saving(ensureFresh().then(function () { return zip(order.slice()); }));
    }
    if (batch && batch.whole && batch.done < batch.indexes.length) { return shareNext(); }
    return saveMatches(order.slice(), true);
  }

  function shareNext() {
    var current = batch;
    var size = config.share_batch || 10;
    var part = current.indexes.slice(current.done, current.done + size);
    var ready = current.files ? Promise.resolve(current.files) : ensureFresh().then(function () {
      return Promise.all(part.map(original)).then(function (blobs) {
        return blobs.map(function (blob, i) {
          return new File([blob], fileName(answer.matches[part[i]], blob), { type: blob.type });
        });
      });
    });
    announce(t.saving);
    return ready.then(function (files) {
      if (!navigator.canShare({ files: files })) { throw fail("SHARE_REFUSED", 0); }
      current.files = files;
      return navigator.share({ files: files, title: config.event_name }).then(function () {
        current.files = null;
        current.done += part.length;
        shareProgress(current);
      });
    }).catch(function (error) {
      if (error && error.name === "NotAllowedError" && current.files) {
        buttonFor(current).textContent = t.save_ready;  // the tap expired while downloading
        announce(t.save_ready);
        return;
      }
      if (error && error.name === "AbortError") return;  // the guest closed the share sheet
      var gone = error && (error.message === "PHOTO_NOT_FOUND" || error.status === 404);
      showMessage(gone ? t.DOWNLOAD_GONE : t.DOWNLOAD_FAILED);
      announce($("message-text").textContent);
    });
  }

  function buttonFor(current) { return current.whole ? $("save-all") : $("save-selected"); }

  function shareProgress(current) {
    var total = current.indexes.length, left = total - current.done;
    if (left > 0) {
      var next = Math.min(left, config.share_batch || 10);
      buttonFor(current).textContent = format(t.save_next, { n: next, left: left });
      showNotice(format(t.save_progress, { done: current.done, total: total }));
      return;
    }
    batch = null;
    $("save-all").textContent = t.save_all_photos;
    $("save-selected").textContent = t.save_selected;
    showNotice(total > 1 ? format(t.save_progress, { done: total, total: total }) : t.saved);
  }

  function zip(indexes) {
    var body = function () {
      return JSON.stringify({ tokens: indexes.map(function (i) { return answer.matches[i].download_token; }) });
    };
    var options = function () {
      var headers = { "Content-Type": "application/json", Accept: "application/zip" };
      headers[config.device_header] = deviceToken();
      return { method: "POST", headers: headers, body: body() };
    };
    return fetchOk(config.download_url, options(), false).then(function (response) {
      return response || fetchOk(config.download_url, options(), true);
    }).then(function (response) { return response.blob(); }).then(function (blob) {
      saveBlob(blob, zipName());
    });
  }

  function selectedIndexes() {
    return order.filter(function (i) { return selected[answer.matches[i].photo_id]; });
  }

  /* ---- "me and my family": another person's selfie, with their consent, joins the gallery ---- */

  function personName(index) { return index === 0 ? t.person_you : format(t.person_n, { n: index + 1 }); }

  function family() { return !!(answer && answer.people && answer.people.length > 1); }

  function showFamilyConsent() {
    showMessage("");
    show("family-consent");
    enterStep("family-consent");
    $("family-consent-title").focus();
  }

  function familyAgreed() {
    adding = true;
    clearSelfies();
    // The same selfie as the first person's: under the live policy a challenge and its turn.
    if (cameraAvailable()) { startSelfie(); } else { showIntro(); }
  }

  function postJson(url, body) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    headers[config.device_header] = deviceToken();
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (answerBody) {
        if (!response.ok || !answerBody) { throw fail(errorCode(answerBody), response.status); }
        return answerBody;
      });
    });
  }

  /* One token for everyone: the gallery (and a reload, a results link) shows them all. */
  function merge(tokens, people, before) {
    show("progress");
    $("progress-bar").removeAttribute("value");
    $("progress-text").textContent = t.searching;
    return postJson(config.merge_url, { results_tokens: tokens }).then(function (merged) {
      answer.people = people;
      answer.results_token = merged.results_token;
      answer.results_expires_at = merged.results_expires_at;
      answer.expires_at = merged.expires_at;
      answer.matches = merged.matches;
      save(STORE, answer);
      showResults(before);
    }).catch(function (error) {
      if (!resultsGone(error)) { renderResults(); showMessage(t.UNAVAILABLE); }
    });
  }

  function addPerson(body) {
    var people = (answer.people || [{ query_token: answer.query_token }]).concat([{ query_token: body.query_token }]);
    return merge([answer.results_token, body.results_token], people, null);
  }

  /* A family's recheck: each person's search again (no selfies), then one gallery again. */
  function recheckFamily(before) {
    showMessage("");
    show("progress");
    $("progress-bar").removeAttribute("value");
    $("progress-text").textContent = t.checking_new;
    announce(t.checking_new);
    var people = answer.people;
    var tokens = [];
    var chain = Promise.resolve();
    people.forEach(function (person) {
      chain = chain.then(function () {
        return postJson(config.recheck_url, { query_token: person.query_token }).then(function (body) {
          tokens.push(body.results_token);
        });
      });
    });
    chain.then(function () { return merge(tokens, people, before); }, function (error) {
      if (error && error.status === 429) { renderResults(); showMessage(format(t.RATE_LIMITED, { s: 60 })); return; }
      if (!resultsGone(error)) { renderResults(); showMessage(t.UNAVAILABLE, recheck); }
    });
  }

  /* ---- "Send me my photos": the results link by e-mail (the address is used once) ---- */

  function sendEmail(event) {
    event.preventDefault();
    var input = $("email-input");
    var address = input.value.trim();
    showMessage("");
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) { showMessage(t.EMAIL_INVALID); input.focus(); return; }
    $("email-send").disabled = true;
    var body = { results_token: answer.results_token, email: address, lang: config.lang };
    var xhr = send(config.email_url, body, true);
    upload = null;  // not an upload: Back must not cancel it
    var done = function (text, ok) {
      $("email-send").disabled = false;
      if (ok) { input.value = ""; showNotice(text); } else { showMessage(text); }
    };
    xhr.onload = function () {
      if (xhr.status === 202) { done(t.email_sent, true); return; }
      var wait = parseInt(xhr.getResponseHeader("Retry-After") || "60", 10);
      if (xhr.status === 429) { done(format(t.EMAIL_RATE_LIMITED, { s: wait })); return; }
      if (xhr.status === 422) { done(t.EMAIL_INVALID); return; }
      if (xhr.status === 403) { done(t.RESULTS_GONE); return; }
      done(t.EMAIL_FAILED);
    };
    xhr.onerror = xhr.ontimeout = function () { done(t.NETWORK); };
  }

  /* A results link (from the e-mail): the gallery of its token, kept in this browser too.
     The token travels in the fragment, which no server sees; it leaves the address bar at once. */
  function openResultsLink() {
    var found = /(?:^#|&)results=([^&]+)/.exec(location.hash);
    if (!found) return false;
    history.replaceState(null, "", location.pathname + location.search);
    var token = decodeURIComponent(found[1]);
    show("progress");
    $("progress-bar").removeAttribute("value");
    $("progress-text").textContent = t.searching;
    var url = config.results_url + "?token=" + encodeURIComponent(token);
    fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok || !body) { throw fail(errorCode(body), response.status); }
        answer = null;
        keep({
          results_token: token,
          results_expires_at: body.results_expires_at,
          expires_at: body.expires_at,
          matches: body.matches
        });
        renderResults();
      });
    }).catch(function (error) {
      if (!resultsGone(error)) { showIntroOrConsent(); showMessage(t.UNAVAILABLE); }
    });
    return true;
  }

  /* ---- "remove me from this event's search" ---- */

  function startOptOut() {
    showMessage("");
    show("opt-out");
    enterStep("opt-out");
    $("opt-out-title").focus();
  }

  function continueOptOut() {
    optingOut = true;
    applySelfiePolicy();
    $("search").textContent = t.opt_out_send;
    showIntro();  // reached from the consent screen too: this selfie only removes
  }

  /* "This removes you from this event's search": nothing is sent before the guest says yes. */
  function confirmOptOut() {
    var days = config.removal_review_days;
    $("opt-out-confirm-text").textContent = days > 0
      ? format(t.opt_out_confirm_text, { days: days }) : t.opt_out_confirm_final;
    show("opt-out-confirm");
    enterStep("opt-out-confirm");  // Back returns to the selfie, nothing sent
    $("opt-out-confirm-title").focus();
  }

  function endOptOut() {
    optingOut = false;
    optOutConfirmed = false;
    applySelfiePolicy();
    $("search").textContent = t.search;
  }

  /* The guest's faces are gone from the search: so are the results this browser kept. */
  function optedOut(body) {
    endOptOut();
    clearSelfies();
    dropResults();
    showIntro();
    var done = format(t.opt_out_done, { n: body.faces_removed });
    showMessage(done);
    announce(done);
  }

  function searchAgain() {
    endOptOut();
    clearSelfies();
    dropResults();
    setSelecting(false);
    showMessage("");
    showIntroOrConsent();
  }

  function showIntroOrConsent() {
    if (consented()) { showIntro(); } else { showConsent(); }
  }

  /* ---- start: the gallery again if this browser has one, else consent or intro ---- */

  function restore() {
    var kept = load(STORE);
    if (!kept || !kept.results_token || !(kept.results_expires_at > now())) {
      if (!kept) return false;
      forget(STORE);  // the 7 days are over: say so, instead of a gallery gone without a word
      showIntroOrConsent();
      showNotice(format(t.RESULTS_ENDED, { days: config.results_days_text }));
      return true;
    }
    answer = kept;
    if (linksFresh()) {
      renderResults();
    } else {
      show("progress");
      $("progress-bar").removeAttribute("value");
      $("progress-text").textContent = t.searching;
      refreshLinks().then(renderResults, function (error) {
        if (!resultsGone(error)) { renderResults(); showMessage(t.UNAVAILABLE, restore); }
      });
    }
    return true;
  }

  function applyBranding() {
    if (config.accent) {
      document.documentElement.style.setProperty("--accent", config.accent);
      document.documentElement.style.setProperty("--accent-fg", config.accent_fg);
      var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
      document.documentElement.style.setProperty("--accent-text", dark ? config.accent_text_dark : config.accent_text);
    }
  }

  /* ---- wiring ---- */

  $("consent-agree").addEventListener("click", agree);
  $("consent-decline").addEventListener("click", decline);
  $("start-camera").addEventListener("click", startSelfie);
  $("capture").addEventListener("click", capture);
  $("cancel-camera").addEventListener("click", function () {
    if (historyStep() === "camera") { history.back(); return; }  // onPopState takes it from there
    stopCamera();
    if (selfies.length) { showReview(); } else { showIntro(); }
  });
  $("file-input").addEventListener("change", onFileChosen);
  $("search").addEventListener("click", search);
  $("cancel-upload").addEventListener("click", cancelUpload);
  $("retake").addEventListener("click", startSelfie);
  var angles = document.querySelectorAll("button[data-angle]");
  for (var a = 0; a < angles.length; a++) {
    angles[a].addEventListener("click", function (event) {
      startCamera(event.currentTarget.getAttribute("data-angle"));
    });
  }
  $("show-more").addEventListener("click", showMore);
  $("select-mode").addEventListener("click", function () { setSelecting(!selecting); });
  $("save-selected").addEventListener("click", function () {
    if (batch && !batch.whole && batch.done < batch.indexes.length) {
      shareNext();
    } else {
      saveMatches(selectedIndexes());
    }
  });
  $("select-all").addEventListener("click", selectAll);
  $("save-all").addEventListener("click", saveAll);
  $("order-best").addEventListener("click", function () { setOrder("best"); });
  $("order-time").addEventListener("click", function () { setOrder("time"); });
  $("consent-reconsider").addEventListener("click", function () {
    if (historyStep() === "declined") { history.back(); } else { showConsent(); }
  });
  $("lightbox-retry").addEventListener("click", retryLightbox);
  $("add-someone").addEventListener("click", showFamilyConsent);
  $("family-agree").addEventListener("click", familyAgreed);
  $("family-cancel").addEventListener("click", function () {
    if (historyStep() === "family-consent") { history.back(); } else { renderResults(); }
  });
  if ($("email-form")) { $("email-form").addEventListener("submit", sendEmail); }
  $("download-all").addEventListener("click", function () {
    showMessage("");
    saving(ensureFresh().then(function () { return zip(order.slice()); }));
  });
  $("check-new").addEventListener("click", recheck);
  $("opt-out-start").addEventListener("click", startOptOut);
  $("consent-opt-out").addEventListener("click", startOptOut);
  $("opt-out-confirm-yes").addEventListener("click", function () { optOutConfirmed = true; search(); });
  $("opt-out-confirm-no").addEventListener("click", function () {
    endOptOut();
    clearSelfies();
    backToStart();
  });
  $("opt-out-continue").addEventListener("click", continueOptOut);
  $("opt-out-cancel").addEventListener("click", function () {
    endOptOut();
    if (answer) { renderResults(); } else { showIntroOrConsent(); }
  });
  $("check-new-empty").addEventListener("click", recheck);
  $("lightbox-prev").addEventListener("click", function () { stepLightbox(-1); });
  $("lightbox-next").addEventListener("click", function () { stepLightbox(1); });
  $("lightbox-close").addEventListener("click", closeLightbox);
  $("lightbox-save").addEventListener("click", function () { saveMatches([order[lightboxIndex]]); });
  $("lightbox").addEventListener("cancel", function (event) { event.preventDefault(); closeLightbox(); });
  $("lightbox").addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") stepLightbox(-1);
    if (event.key === "ArrowRight") stepLightbox(1);
  });
  swipe($("lightbox-image"));
  window.addEventListener("popstate", onPopState);
  var again = document.querySelectorAll("[data-action=search-again]");
  for (var i = 0; i < again.length; i++) { again[i].addEventListener("click", searchAgain); }

  applyBranding();
  applySelfiePolicy();
  deviceToken();
  if (!cameraAvailable()) { promoteUpload(); }
  if (!openResultsLink() && !restore()) { showIntroOrConsent(); }
})();
