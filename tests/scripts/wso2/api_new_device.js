// New-device step-up.
// A browser that already passed the second factor for this account carries an encrypted device
// cookie named after the account's uniqueId (stable even if the username changes); such a login
// needs the password only.  Any other browser must pass step 2, and is remembered afterwards.
var secondFactorStep = 2;
var deviceCookiePrefix = 'deviceAuth-';
var rememberDeviceSeconds = 60 * 60 * 24 * 90;

var deviceCookieName = function (user) {
    return deviceCookiePrefix + user.uniqueId;
};

var isKnownDevice = function (context, user) {
    var remembered = getCookieValue(context.request, deviceCookieName(user), {decrypt: true});
    return remembered !== null && remembered === user.uniqueId;
};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            if (isKnownDevice(context, user)) {
                Log.info('Known device for user ' + user.uniqueId + ': no second factor.');
                return;
            }
            Log.info('New device for user ' + user.uniqueId + ': stepping up.');
            executeStep(secondFactorStep, {
                onSuccess: function (context) {
                    setCookie(context.response, deviceCookieName(user), user.uniqueId, {
                        'max-age': rememberDeviceSeconds,
                        path: '/',
                        httpOnly: true,
                        secure: true,
                        encrypt: true
                    });
                }
            });
        }
    });
};
