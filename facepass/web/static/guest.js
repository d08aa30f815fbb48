/* The guest page: camera or gallery -> selfie -> search -> gallery of the guest's photos.
   No framework and no external requests; everything it needs comes from the same origin. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("config").textContent);
  var t = config.t;
  var $ = function (id) { return document.getElementById(id); };
  var selfies = [];          // {blob, url}
  var matches = [];          // the whole answer; pages are shown from memory
  var shown = 0;
  var lightboxIndex = -1;
  var stream = null;
  var countdown = null;

  try { localStorage.setItem("facepass_lang", config.lang); } catch (e) { /* private mode */ }

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function announce(text) {
    $("status").textContent = text;
  }

  function showMessage(text) {
    var box = $("message");
    box.textContent = text;
    box.hidden = !text;
  }

  function show(view) {
    var views = document.querySelectorAll("[data-view]");
    for (var i = 0; i < views.length; i++) { views[i].hidden = views[i].id !== view; }
    document.body.setAttribute("data-state", view);
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

  function startCamera() {
    showMessage("");
    if (!cameraAvailable()) {
      cameraFailed({ name: "NotFoundError" });
      return;
    }
    show("camera");
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
        announce(t.camera_guide);
      };
    }).catch(cameraFailed);
  }

  function cameraFailed(error) {
    stopCamera();
    show(selfies.length ? "review" : "intro");
    var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
    showMessage(denied ? t.camera_denied : t.camera_absent);
    $("file-input").focus();
  }

  function capture() {
    var video = $("video");
    var canvas = document.createElement("canvas");
    var scale = Math.min(1, config.max_side / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      stopCamera();
      addSelfie(blob);
      showReview();
    }, "image/jpeg", 0.9);
  }

  /* ---- selfies ---- */

  function addSelfie(blob) {
    selfies.push({ blob: blob, url: URL.createObjectURL(blob) });
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
      img.alt = format(t.photo_alt, { n: index + 1 });
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button secondary";
      remove.textContent = "×";
      remove.setAttribute("aria-label", t.remove + " " + (index + 1));
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(selfie.url);
        selfies.splice(index, 1);
        if (selfies.length) { showReview(); } else { show("intro"); }
      });
      item.appendChild(img);
      item.appendChild(remove);
      list.appendChild(item);
    });
    $("add-selfie").hidden = selfies.length >= config.max_selfies;
    show("review");
    $("search").focus();
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
    if (!file) return;
    showMessage("");
    show("progress");
    $("progress-text").textContent = t.preparing;
    downscale(file).then(function (blob) {
      addSelfie(blob);
      search();
    });
  }

  /* ---- search ---- */

  function search() {
    if (!selfies.length) return;
    showMessage("");
    show("progress");
    var bar = $("progress-bar");
    bar.value = 0;
    $("progress-text").textContent = t.uploading;
    announce(t.uploading);
    var body = new FormData();
    selfies.forEach(function (selfie, index) { body.append("selfie", selfie.blob, "selfie-" + index + ".jpg"); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", config.search_url);
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    };
    xhr.upload.onload = function () {
      bar.removeAttribute("value");  // indeterminate while the server looks
      $("progress-text").textContent = t.searching;
      announce(t.searching);
    };
    xhr.onload = function () { handleAnswer(xhr.status, xhr.response, xhr.getResponseHeader("Retry-After")); };
    xhr.onerror = function () { failed(t.NETWORK); };
    xhr.send(body);
  }

  function handleAnswer(status, body, retryAfter) {
    if (status === 200 && body) {
      clearSelfies();
      showResults(body);
      return;
    }
    var code = body && body.error ? body.error.code : "";
    if (status === 429) {
      rateLimited(parseInt(retryAfter || "60", 10));
    } else if (status === 422) {
      // Face codes have advice of their own; anything else means the file itself is unusable.
      failed(t[code] || (code.indexOf("FACE") >= 0 ? t.NO_FACE_FOUND : t.INVALID_IMAGE), true);
    } else if (status === 413) {
      failed(t.SELFIE_TOO_LARGE, true);
    } else if (status === 403 || status === 404) {
      failed(t.SESSION_GONE);
    } else {
      failed(t.UNAVAILABLE);
    }
  }

  function failed(text, retake) {
    if (retake) { clearSelfies(); }
    show(selfies.length ? "review" : "intro");
    if (selfies.length) { showReview(); }
    showMessage(text);
    announce(text);
  }

  function rateLimited(seconds) {
    var left = isFinite(seconds) && seconds > 0 ? seconds : 60;
    failed(format(t.RATE_LIMITED, { s: left }));
    setSearchEnabled(false);
    clearInterval(countdown);
    countdown = setInterval(function () {
      left -= 1;
      if (left <= 0) {
        clearInterval(countdown);
        showMessage("");
        setSearchEnabled(true);
        return;
      }
      $("message").textContent = format(t.RATE_LIMITED, { s: left });
    }, 1000);
  }

  function setSearchEnabled(enabled) {
    ["search", "start-camera", "add-selfie", "retake"].forEach(function (id) { $(id).disabled = !enabled; });
    $("file-input").disabled = !enabled;
  }

  /* ---- results ---- */

  function showResults(body) {
    matches = body.matches || [];
    shown = 0;
    $("gallery").textContent = "";
    if (!matches.length) {
      var index = body.index || {};
      var pending = index.photos_pending || 0;
      $("index-state").textContent = format(pending ? t.index_state : t.index_state_done, {
        indexed: index.photos_indexed || 0, pending: pending
      });
      show("no-results");
      $("no-results-title").focus();
      announce(t.no_results_title);
      return;
    }
    var title = format(t[pluralKey(matches.length)], { n: matches.length });
    $("results-title").textContent = title;
    showMore();
    show("results");
    $("results-title").focus();
    announce(title);
  }

  function showMore() {
    var gallery = $("gallery");
    var end = Math.min(matches.length, shown + config.page_size);
    for (var i = shown; i < end; i++) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-index", String(i));
      var img = document.createElement("img");
      img.src = matches[i].thumb_url;
      img.loading = "lazy";
      img.decoding = "async";
      img.alt = format(t.photo_alt, { n: i + 1 });
      img.setAttribute("data-photo-id", matches[i].photo_id);
      button.appendChild(img);
      button.addEventListener("click", openLightbox.bind(null, i));
      item.appendChild(button);
      gallery.appendChild(item);
    }
    shown = end;
    $("show-more").hidden = shown >= matches.length;
  }

  function openLightbox(index) {
    lightboxIndex = index;
    var match = matches[index];
    $("lightbox-image").src = match.large_url;
    $("lightbox-image").alt = format(t.photo_alt, { n: index + 1 });
    $("lightbox-download").href = match.original_url + "&download=1";
    $("lightbox-prev").disabled = index === 0;
    $("lightbox-next").disabled = index === matches.length - 1;
    var dialog = $("lightbox");
    if (!dialog.open) { dialog.showModal(); }
  }

  function stepLightbox(delta) {
    var next = lightboxIndex + delta;
    if (next >= 0 && next < matches.length) { openLightbox(next); }
  }

  function downloadAll() {
    var form = $("zip-form");
    form.textContent = "";
    matches.forEach(function (match) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "token";
      input.value = match.download_token;
      form.appendChild(input);
    });
    form.submit();
  }

  function searchAgain() {
    clearSelfies();
    matches = [];
    showMessage("");
    show("intro");
    $("start-camera").focus();
  }

  /* ---- wiring ---- */

  $("start-camera").addEventListener("click", startCamera);
  $("capture").addEventListener("click", capture);
  $("cancel-camera").addEventListener("click", function () {
    stopCamera();
    if (selfies.length) { showReview(); } else { show("intro"); }
  });
  $("file-input").addEventListener("change", onFileChosen);
  $("search").addEventListener("click", search);
  $("add-selfie").addEventListener("click", startCamera);
  $("retake").addEventListener("click", function () { clearSelfies(); startCamera(); });
  $("show-more").addEventListener("click", showMore);
  $("download-all").addEventListener("click", downloadAll);
  $("lightbox-prev").addEventListener("click", function () { stepLightbox(-1); });
  $("lightbox-next").addEventListener("click", function () { stepLightbox(1); });
  $("lightbox-close").addEventListener("click", function () { $("lightbox").close(); });
  $("lightbox").addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") stepLightbox(-1);
    if (event.key === "ArrowRight") stepLightbox(1);
  });
  var again = document.querySelectorAll("[data-action=search-again]");
  for (var i = 0; i < again.length; i++) { again[i].addEventListener("click", searchAgain); }
  if (!cameraAvailable()) { $("upload-label").classList.replace("secondary", "primary"); }
  show("intro");
})();
