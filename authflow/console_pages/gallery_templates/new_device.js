// New-device step-up: a browser that passed the second factor for this account keeps an encrypted cookie
// named after the account's uniqueId, and later needs the password only.  Any other browser passes step 2
// and is remembered for 90 days.
var deviceCookiePrefix = 'knownDevice-';
var rememberSeconds = 90 * 24 * 60 * 60;

var cookieNameFor = function (user) {
    return deviceCookiePrefix + user.uniqueId;
};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            var remembered = getCookieValue(context.request, cookieNameFor(user), {decrypt: true});
            if (remembered === user.uniqueId) {
                Log.info('Known device: no second factor');
                return;
            }
            Log.info('New device: second factor');
            executeStep(2, {
                onSuccess: function (context) {
                    setCookie(context.response, cookieNameFor(user), user.uniqueId,
                              {'max-age': rememberSeconds, path: '/', httpOnly: true, secure: true, encrypt: true});
                }
            });
        }
    });
};
