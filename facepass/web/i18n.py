"""The guest page's words in Russian and English, and how a request picks its language.

Order of preference: `?lang=` in the URL (the page's switch, then remembered in a cookie),
the cookie, the browser's Accept-Language, and Russian, the language of Pixora's studios.
"""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "ru"
LANGUAGE_COOKIE = "facepass_lang"
# The version of the consent text below; change it whenever that text changes. Searches are
# counted per version (usage analytics), so a studio can tell what its guests agreed to.
CONSENT_VERSION = "guest-page-1"

MESSAGES: dict[Language, dict[str, str]] = {
    "ru": {
        "page_title": "Найдите свои фото",
        "intro": "Сделайте селфи — и мы найдём все фотографии этого события, на которых есть вы.",
        "privacy": "Селфи используется только для поиска и не сохраняется.",
        "start_camera": "Сделать селфи",
        "upload": "Выбрать фото",
        "upload_hint": "Нет камеры? Выберите своё фото из галереи.",
        "camera_label": "Камера: поместите лицо в овал",
        "camera_guide": "Поместите лицо в овал и смотрите в камеру",
        "capture": "Снять",
        "retake": "Переснять",
        "cancel": "Отмена",
        "search": "Найти мои фото",
        "add_selfie": "Добавить ещё ракурс",
        "selfies_hint": "Несколько селфи с разных ракурсов помогают найти больше фото.",
        "remove": "Убрать",
        "camera_denied": "Нет доступа к камере. Разрешите его в настройках браузера "
        "или выберите фото из галереи.",
        "camera_absent": "Камера не найдена. Выберите фото из галереи.",
        "camera_starting": "Включаем камеру…",
        "preparing": "Готовим фото…",
        "uploading": "Отправляем селфи…",
        "searching": "Ищем вас на фотографиях…",
        "found_one": "Найдена {n} фотография",
        "found_few": "Найдено {n} фотографии",
        "found_many": "Найдено {n} фотографий",
        "show_more": "Показать ещё",
        "download_all": "Скачать все (ZIP)",
        "download": "Скачать",
        "close": "Закрыть",
        "previous": "Предыдущее",
        "next": "Следующее",
        "search_again": "Искать снова",
        "no_results_title": "Пока не нашли ваших фото",
        "no_results": "Возможно, фотографии ещё загружаются. Попробуйте позже "
        "или сделайте селфи при лучшем освещении.",
        "index_state": "Обработано фото: {indexed}. В очереди: {pending}.",
        "index_state_done": "Обработано фото: {indexed}.",
        "photo_alt": "Фото {n}",
        "NO_FACE_FOUND": "Лицо не найдено. Смотрите прямо в камеру, лицо целиком в кадре.",
        "FACE_TOO_SMALL": "Лицо слишком маленькое. Поднесите камеру ближе.",
        "FACE_BLURRY": "Фото размыто. Держите телефон неподвижно, добавьте света.",
        "FACE_NOT_FRONTAL": "Повернитесь к камере лицом.",
        "FACE_LOW_CONFIDENCE": "Лицо плохо видно. Добавьте света и смотрите в камеру.",
        "INVALID_IMAGE": "Не удалось прочитать фото. Попробуйте другое.",
        "SELFIE_TOO_LARGE": "Фото слишком большое. Выберите другое.",
        "RATE_LIMITED": "Слишком много попыток. Попробуйте снова через {s} с.",
        "SESSION_GONE": "Поиск для этого события сейчас недоступен.",
        "UNAVAILABLE": "Сервис временно недоступен. Попробуйте через минуту.",
        "NETWORK": "Нет связи с сервером. Проверьте интернет и попробуйте снова.",
        "LIVE_NOT_TURNED": "Поверните голову сильнее, как указано.",
        "LIVE_NOT_SAME_PERSON": "На обоих селфи должны быть вы.",
        "LIVE_SPOOF_SUSPECTED": "Снимите себя камерой при хорошем свете.",
        "LIVE_COPIED_FACE": "Снимите селфи камерой сейчас, а не с фотографии.",
        "LIVE_SELFIE_REQUIRED": "Нужны два селфи с камеры.",
        "CHALLENGE_INVALID": "Время вышло. Снимите заново.",
        "live_title": "Ещё селфи с поворотом",
        "live_hint": "Поверните голову, как указано.",
        "camera_required": "Нужна камера: разрешите её в браузере.",
        "error_404_title": "Событие не найдено",
        "error_404": "Проверьте ссылку или QR-код — такого события нет.",
        "error_403_title": "Поиск по лицу выключен",
        "error_403": "Студия не включила поиск по лицу для этого события.",
        "error_503_title": "Сервис временно недоступен",
        "error_503": "Не удалось проверить событие. Обновите страницу через минуту.",
        "retry": "Обновить",
        "error_contact": "Ссылку или QR-код вам дали организаторы или студия — спросите у них.",
        "error_contact_studio": "Спросите у студии: {studio}.",
        "language": "Язык",
        "consent_title": "Прежде чем включить камеру",
        "consent_use": "Селфи нужно один раз — чтобы найти ваши фото этого события. Мы его не "
        "сохраняем: сервер забывает селфи сразу после поиска.",
        "consent_links": "Фотографии остаются у студии. Список найденных фото хранится только в "
        "этом браузере {days}, чтобы вы могли вернуться к нему.",
        "consent_operator": "Сервис FacePass предоставляет {operator}.",
        "consent_studio": "Фотографии: {studio}.",
        "consent_policy": "Политика конфиденциальности",
        "consent_agree": "Согласен(на), продолжить",
        "consent_decline": "Не сейчас",
        "consent_declined": "Хорошо, ничего не отправлено и камера не включалась. Передумаете — "
        "нажмите «Продолжить».",
        "consent_law": "Селфи — биометрические данные: нужно ваше явное согласие (GDPR ст. 9, "
        "152-ФЗ).",
        "upload_primary_hint": "Камера недоступна — выберите своё фото из галереи.",
        "angle_title": "Ещё ракурс (необязательно)",
        "angle_hint": "Повернув голову немного в сторону, вы поможете найти фото, где вы в "
        "профиль.",
        "angle_left": "Повернуться немного влево",
        "angle_right": "Повернуться немного вправо",
        "angle_left_guide": "Поверните голову немного влево и нажмите «Снять»",
        "angle_right_guide": "Поверните голову немного вправо и нажмите «Снять»",
        "selfie_label": "Селфи {n}",
        "cancelled": "Отправка отменена.",
        "TIMEOUT": "Сервер долго не отвечает. Проверьте связь и попробуйте снова.",
        "try_again": "Попробовать снова",
        "rate_wait": "Слишком много попыток с этого устройства. Подождите немного.",
        "rate_ready": "Можно пробовать снова.",
        "busy_wait": "Сейчас ищут многие гости — вы следующий. Подождите, мы повторим сами.",
        "select": "Выбрать",
        "select_done": "Готово",
        "selected": "Выбрано: {n}",
        "save": "Сохранить",
        "save_selected": "Сохранить выбранные",
        "save_all_zip": "Скачать все (ZIP)",
        "saving": "Готовим фото…",
        "saved": "Готово.",
        "check_new": "Проверить новые фото",
        "checking_new": "Ищем новые фото…",
        "new_photos": "Новых фото: {n}.",
        "no_new_photos": "Новых фото пока нет.",
        "new_search": "Новый поиск",
        "opt_out": "Удалить меня из поиска этого события",
        "opt_out_title": "Удалить меня из поиска",
        "opt_out_text": "Сделайте селфи ещё раз: все ваши лица на фотографиях этого события будут "
        "удалены из поиска навсегда, и никто не найдёт вас здесь по селфи. Сами фотографии "
        "остаются у студии. Селфи, как и при поиске, не сохраняется.",
        "opt_out_continue": "Продолжить",
        "opt_out_send": "Удалить меня",
        "opt_out_done": "Готово: удалено лиц — {n}. В поиске этого события вас больше не найдут.",
        "opt_out_confirm_title": "Удалить вас из поиска?",
        "opt_out_confirm_text": "Это удалит вас из поиска этого события: по селфи вас здесь "
        "больше никто не найдёт. Если это ошибка, студия может вернуть всё в течение {days} дн.",
        "opt_out_confirm_final": "Это удалит вас из поиска этого события: по селфи вас здесь "
        "больше никто не найдёт. Отменить это нельзя.",
        "opt_out_confirm": "Да, удалить меня",
        "counter": "{n} из {total}",
        "DOWNLOAD_FAILED": "Не удалось сохранить фото. Попробуйте ещё раз.",
        "DOWNLOAD_GONE": "Это фото больше недоступно.",
        "RESULTS_GONE": "Ссылка на ваши фото устарела. Сделайте селфи ещё раз.",
        "value": "Одно селфи — и все ваши фото с этого события у вас в телефоне.",
        "consent_reconsider": "Продолжить",
        "NO_FACE_FOUND_PHOTO": "На этом фото не нашлось лица. Выберите фото, где ваше лицо "
        "крупное и хорошо видно.",
        "RESULTS_ENDED": "Список ваших фото хранился в этом браузере {days} и закончился. "
        "Сделайте селфи — и мы найдём их снова.",
        "save_all_photos": "Сохранить все в Фото",
        "save_next": "Сохранить ещё {n} (осталось {left})",
        "save_ready": "Фото готовы — нажмите «Сохранить»",
        "save_progress": "Сохранено {done} из {total}.",
        "select_all": "Выбрать все",
        "new_badge": "Новое",
        "order": "Порядок",
        "order_best": "Лучшие совпадения",
        "order_time": "По времени",
        "photo_unavailable": "Фото сейчас не загружается.",
        "back_online": "Связь восстановлена.",
        "email_title": "Отправить ссылку себе",
        "email_hint": "Откройте свои фото на другом устройстве. Адрес нужен только для этого "
        "письма и не сохраняется.",
        "email_label": "E-mail",
        "email_send": "Отправить",
        "email_sent": "Письмо со ссылкой отправлено.",
        "EMAIL_INVALID": "Проверьте адрес e-mail.",
        "EMAIL_FAILED": "Не удалось отправить письмо. Попробуйте позже.",
        "EMAIL_RATE_LIMITED": "Письмо уже отправлено. Следующее можно через {s} с.",
        "add_someone": "Добавить человека",
        "family_hint": "Найдите фото родных и друзей: сделайте селфи ещё одного человека — "
        "только с его согласия.",
        "family_consent": "Этот человек рядом и согласен: его селфи нужно один раз, только для "
        "поиска, и не сохраняется.",
        "family_agree": "Согласен(на), сделать селфи",
        "person_you": "Вы",
        "person_n": "Человек {n}",
        "who": "На фото: {names}",
        "family_found": "Всего фото: {n}",
        "email_subject": "Ваши фото: {event}",
        "email_body": "Здравствуйте!\n\nВаши фото с события «{event}» — по этой ссылке:"
        "\n\n{link}\n\n"
        "Ссылка действует {days}. Вы получили это письмо, потому что сами попросили "
        "отправить ссылку на этот адрес; мы его не сохраняем.\n",
        "og_description": "Сделайте селфи — и получите все свои фото с этого события.",
    },
    "en": {
        "page_title": "Find your photos",
        "intro": "Take a selfie and we will find every photo of this event that shows you.",
        "privacy": "Your selfie is only used for the search and is not stored.",
        "start_camera": "Take a selfie",
        "upload": "Choose a photo",
        "upload_hint": "No camera? Choose a photo of yourself from your gallery.",
        "camera_label": "Camera: fit your face in the oval",
        "camera_guide": "Fit your face in the oval and look at the camera",
        "capture": "Capture",
        "retake": "Retake",
        "cancel": "Cancel",
        "search": "Find my photos",
        "add_selfie": "Add another angle",
        "selfies_hint": "A few selfies from different angles help find more photos.",
        "remove": "Remove",
        "camera_denied": "Camera access was denied. Allow it in your browser settings "
        "or choose a photo from your gallery.",
        "camera_absent": "No camera found. Choose a photo from your gallery.",
        "camera_starting": "Starting the camera…",
        "preparing": "Preparing the photo…",
        "uploading": "Sending your selfie…",
        "searching": "Looking for you in the photos…",
        "found_one": "Found {n} photo",
        "found_few": "Found {n} photos",
        "found_many": "Found {n} photos",
        "show_more": "Show more",
        "download_all": "Download all (ZIP)",
        "download": "Download",
        "close": "Close",
        "previous": "Previous",
        "next": "Next",
        "search_again": "Search again",
        "no_results_title": "No photos of you found yet",
        "no_results": "The photos may still be arriving. Try again later, "
        "or take a selfie in better light.",
        "index_state": "Photos processed: {indexed}. Still in the queue: {pending}.",
        "index_state_done": "Photos processed: {indexed}.",
        "photo_alt": "Photo {n}",
        "NO_FACE_FOUND": "No face found. Look straight at the camera with your whole face in view.",
        "FACE_TOO_SMALL": "Your face is too small. Move closer.",
        "FACE_BLURRY": "The photo is blurry. Hold still, more light.",
        "FACE_NOT_FRONTAL": "Turn your face towards the camera.",
        "FACE_LOW_CONFIDENCE": "Your face is hard to see. More light, and look at the camera.",
        "INVALID_IMAGE": "That photo could not be read. Try another one.",
        "SELFIE_TOO_LARGE": "That photo is too large. Choose another one.",
        "RATE_LIMITED": "Too many tries. Try again in {s} s.",
        "SESSION_GONE": "Search is not available for this event right now.",
        "UNAVAILABLE": "The service is temporarily unavailable. Try again in a minute.",
        "NETWORK": "Cannot reach the server. Check your connection and try again.",
        "LIVE_NOT_TURNED": "Turn your head further, as shown.",
        "LIVE_NOT_SAME_PERSON": "Both selfies must show you.",
        "LIVE_SPOOF_SUSPECTED": "Take yourself with the camera, in good light.",
        "LIVE_COPIED_FACE": "Take the selfies with the camera now, not from a photo.",
        "LIVE_SELFIE_REQUIRED": "This needs two camera selfies.",
        "CHALLENGE_INVALID": "Time ran out. Take them again.",
        "live_title": "One more, turned",
        "live_hint": "Turn your head as shown.",
        "camera_required": "This needs the camera: allow it in the browser.",
        "error_404_title": "Event not found",
        "error_404": "Check the link or QR code: there is no such event.",
        "error_403_title": "Face search is off",
        "error_403": "The studio has not turned face search on for this event.",
        "error_503_title": "Temporarily unavailable",
        "error_503": "We could not check this event. Reload the page in a minute.",
        "retry": "Reload",
        "error_contact": "The organisers or the studio gave you this link or QR code: ask them.",
        "error_contact_studio": "Ask the studio: {studio}.",
        "language": "Language",
        "consent_title": "Before the camera opens",
        "consent_use": "Your selfie is used once, to find your photos of this event. It is not "
        "stored: the server forgets it as soon as the search is done.",
        "consent_links": "The photos stay with the studio. The list of photos found is kept only "
        "in this browser, for {days}, so you can come back to it.",
        "consent_operator": "FacePass is provided by {operator}.",
        "consent_studio": "Photos by {studio}.",
        "consent_policy": "Privacy policy",
        "consent_agree": "I agree, continue",
        "consent_decline": "Not now",
        "consent_declined": "Fine: nothing was sent and the camera stayed off. Changed your mind? "
        "Press Continue.",
        "consent_law": "A selfie is biometric data, so we ask for your explicit consent "
        "(GDPR art. 9, Russia's 152-FZ).",
        "upload_primary_hint": "The camera is not available: choose a photo of yourself instead.",
        "angle_title": "Another angle (optional)",
        "angle_hint": "A selfie with your head turned a little finds photos of you in profile.",
        "angle_left": "Turn a little to the left",
        "angle_right": "Turn a little to the right",
        "angle_left_guide": "Turn your head a little to the left, then press Capture",
        "angle_right_guide": "Turn your head a little to the right, then press Capture",
        "selfie_label": "Selfie {n}",
        "cancelled": "Sending cancelled.",
        "TIMEOUT": "The server is taking too long. Check your connection and try again.",
        "try_again": "Try again",
        "rate_wait": "Too many tries from this device. Please wait a little.",
        "rate_ready": "You can try again now.",
        "busy_wait": "Many guests are searching, you are next. We will try again for you.",
        "select": "Select",
        "select_done": "Done",
        "selected": "{n} selected",
        "save": "Save",
        "save_selected": "Save selected",
        "save_all_zip": "Download all (ZIP)",
        "saving": "Preparing your photos…",
        "saved": "Done.",
        "check_new": "Check for new photos",
        "checking_new": "Looking for new photos…",
        "new_photos": "New photos: {n}.",
        "no_new_photos": "No new photos yet.",
        "new_search": "New search",
        "opt_out": "Remove me from this event's search",
        "opt_out_title": "Remove me from the search",
        "opt_out_text": "Take a selfie once more: every face of yours in this event's photos "
        "leaves the search for good, and nobody will find you here with a selfie. The photos "
        "themselves stay with the studio. As with a search, the selfie is not stored.",
        "opt_out_continue": "Continue",
        "opt_out_send": "Remove me",
        "opt_out_done": "Done: {n} faces removed. This event's search will not find you again.",
        "opt_out_confirm_title": "Remove you from the search?",
        "opt_out_confirm_text": "This removes you from this event's search: nobody will find you "
        "here with a selfie. If it is a mistake, the studio can undo it for {days} days.",
        "opt_out_confirm_final": "This removes you from this event's search: nobody will find "
        "you here with a selfie. It cannot be undone.",
        "opt_out_confirm": "Yes, remove me",
        "counter": "{n} of {total}",
        "DOWNLOAD_FAILED": "The photo could not be saved. Please try again.",
        "DOWNLOAD_GONE": "This photo is no longer available.",
        "RESULTS_GONE": "The link to your photos has expired. Take a selfie again.",
        "value": "One selfie, and every photo of you from this event is on your phone.",
        "consent_reconsider": "Continue",
        "NO_FACE_FOUND_PHOTO": "No face found in that photo. Choose one where your face is large "
        "and clear.",
        "RESULTS_ENDED": "Your list of photos was kept in this browser for {days} and has ended. "
        "Take a selfie and we will find them again.",
        "save_all_photos": "Save all to Photos",
        "save_next": "Save {n} more ({left} left)",
        "save_ready": "Photos ready: press Save",
        "save_progress": "Saved {done} of {total}.",
        "select_all": "Select all",
        "new_badge": "New",
        "order": "Order",
        "order_best": "Best match",
        "order_time": "Time taken",
        "photo_unavailable": "This photo cannot be loaded right now.",
        "back_online": "Connected again.",
        "email_title": "Send me my photos",
        "email_hint": "Open your photos on another device. The address is used for this one "
        "e-mail and is not stored.",
        "email_label": "E-mail",
        "email_send": "Send",
        "email_sent": "An e-mail with the link is on its way.",
        "EMAIL_INVALID": "Check the e-mail address.",
        "EMAIL_FAILED": "The e-mail could not be sent. Try again later.",
        "EMAIL_RATE_LIMITED": "An e-mail was just sent. The next one in {s} s.",
        "add_someone": "Add someone",
        "family_hint": "Find the photos of your family and friends: take a selfie of one more "
        "person, only with their consent.",
        "family_consent": "This person is here and agrees: their selfie is used once, only for "
        "the search, and is not stored.",
        "family_agree": "They agree, take their selfie",
        "person_you": "You",
        "person_n": "Person {n}",
        "who": "In this photo: {names}",
        "family_found": "{n} photos in all",
        "email_subject": "Your photos: {event}",
        "email_body": "Hello,\n\nYour photos of {event} are at this link:\n\n{link}\n\n"
        "The link works for {days}. You get this e-mail because you asked for the link to be "
        "sent to this address; we do not keep it.\n",
        "og_description": "Take a selfie and get every photo of you from this event.",
    },
}


_DAYS: dict[Language, tuple[str, str, str]] = {
    "ru": ("{n} день", "{n} дня", "{n} дней"),
    "en": ("{n} day", "{n} days", "{n} days"),
}


def days_text(lang: Language, n: int) -> str:
    """'1 day', '7 days'; '1 день', '3 дня', '7 дней' (Russian has three plural forms)."""
    one, few, many = _DAYS[lang]
    if lang == "en":
        return (one if n == 1 else many).format(n=n)
    last, last_two = n % 10, n % 100
    if last == 1 and last_two != 11:
        return one.format(n=n)
    if 2 <= last <= 4 and not 12 <= last_two <= 14:
        return few.format(n=n)
    return many.format(n=n)


def _accepted(header: str) -> list[tuple[float, str]]:
    """Accept-Language entries as (quality, primary subtag), best first."""
    entries: list[tuple[float, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            # Keep header order among equal qualities.
            entries.append((quality - position * 1e-6, tag.split("-")[0].lower()))
    return sorted(entries, reverse=True)


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> Language:
    """The page's language: explicit choice, remembered choice, browser, default."""
    for explicit in (query, cookie):
        if explicit in LANGUAGES:
            return explicit  # type: ignore[return-value]
    if accept_language:
        for quality, tag in _accepted(accept_language):
            if quality > 0 and tag in LANGUAGES:
                return tag  # type: ignore[return-value]
        return "en"  # a browser that asks for neither reads English more often than Russian
    return DEFAULT_LANGUAGE
