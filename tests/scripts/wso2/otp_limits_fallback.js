// Email OTP limited to two wrong codes (asked again on the page until then); past the limit the user falls back to
// an authenticator app (the alternative path of the template).
var onLoginRequest = function (context) {
    executeStep(1);
    executeStep(2, {
        authenticatorParams: {local: {'email-otp': {enableRetryFromAuthenticator: true,
            maximumAllowedFailureAttempts: 2, maximumAllowedResendAttempts: 0}}}
    }, {
        onFail: function (context) {
            if (context.steps[2] && context.steps[2].authenticator === 'email-otp') {
                Log.info('email OTP failed; trying the authenticator app');
            }
            executeStep(3);
        }
    });
};
