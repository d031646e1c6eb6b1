// Email OTP with limits: three wrong codes at most (asked again on the page), one new code at most
// (asking for a second one ends the step); when a limit is reached the user is refused with a message of the
// application's own.
var otpParams = {
    enableRetryFromAuthenticator: 'true',
    maximumAllowedFailureAttempts: '3',
    maximumAllowedResendAttempts: '1',
    terminateOnResendLimitExceeded: 'true'
};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            executeStep(2, {
                authenticatorParams: {local: {'email-otp-authenticator': otpParams}}
            }, {
                onFail: function (context) {
                    Log.info('email OTP limit reached for ' + context.currentKnownSubject.username);
                    fail({errorCode: 'access_denied', errorMessage: 'Too many tries with the email code.'});
                }
            });
        }
    });
};
