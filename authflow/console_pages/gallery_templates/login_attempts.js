// Step-up after failed sign-ins: an account that saw several wrong passwords before its last successful
// one passes a second factor too; passing it sets the count back to zero.  A wrong password here asks again.
var attemptsBeforeSecondFactor = 3;
var failedAttemptsClaim = 'http://wso2.org/claims/identity/failedLoginAttemptsBeforeSuccess';

var tooManyFailures = function (user) {
    return Number(user.localClaims[failedAttemptsClaim] || 0) >= attemptsBeforeSecondFactor;
};

var passwordStep = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            if (tooManyFailures(user)) {
                Log.info(user.username + ' had failed attempts before: second factor');
                executeStep(2, {
                    onSuccess: function (context) {
                        user.localClaims[failedAttemptsClaim] = '0';
                    }
                });
            }
        },
        onFail: function (context) {
            passwordStep(context);
        }
    });
};

var onLoginRequest = function (context) {
    passwordStep(context);
};
